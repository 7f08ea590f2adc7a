package io.kvcache.core.kv;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How demoted entries are stored: per-token asymmetric groups of {@code bits}-bit codes with an
 * fp16 scale and minimum per group, keys optionally balanced per channel first (MiKV). Set under
 * {@code kvcache.mixed-precision.*}, and used by {@code adaptive} with {@code evicted=low-precision}.
 *
 * @param bits        4, 3 or 2
 * @param groupSize   values per quantization group
 * @param balanceKeys outlier-aware balancing of key channels before quantization
 */
public record LowPrecision(int bits, int groupSize, boolean balanceKeys) {
    public static final int DEFAULT_BITS = 4;
    public static final int DEFAULT_GROUP_SIZE = 32;
    public static final boolean DEFAULT_BALANCE_KEYS = true;
    public static final LowPrecision DEFAULT = new LowPrecision(DEFAULT_BITS, DEFAULT_GROUP_SIZE, DEFAULT_BALANCE_KEYS);

    public LowPrecision {
        PolicyChecks.oneOf("mixed-precision.low-bits", bits, 4, 3, 2);
        PolicyChecks.integer("mixed-precision.group-size", groupSize, 1, 1 << 16);
    }

    Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("mixed-precision.low-bits", Integer.toString(bits));
        s.put("mixed-precision.group-size", Integer.toString(groupSize));
        s.put("mixed-precision.balance-keys", Boolean.toString(balanceKeys));
        return s;
    }
}
