package io.kvcache.core.kv;

import java.util.ArrayList;
import java.util.List;

/**
 * Groups of adjacent layers that attend to one layer's cache (cross-layer sharing, the
 * {@code layer-condensed} policy): the first layer of each group computes and stores keys and
 * values, the others attend to them and store nothing. It combines with any {@link KvPolicy}.
 *
 * @param groups        the groups, ascending and not overlapping
 * @param adjacentPairs share layers 0-1, 2-3, ... of whatever model the cache is for (groups empty)
 */
public record LayerSharing(List<Group> groups, boolean adjacentPairs) {
    /** Every layer holds its own cache. */
    public static final LayerSharing NONE = new LayerSharing(List.of(), false);
    /** Adjacent pairs of layers, resolved against the model's layer count. */
    public static final LayerSharing ADJACENT_PAIRS = new LayerSharing(List.of(), true);

    /** Layers {@code first} to {@code last} (inclusive) attend to layer {@code first}'s cache. */
    public record Group(int first, int last) {
        @Override
        public String toString() {
            return first + "-" + last;
        }
    }

    public LayerSharing {
        groups = List.copyOf(groups);
        if (adjacentPairs && !groups.isEmpty()) {
            throw new IllegalArgumentException("layer sharing: adjacent pairs or explicit groups, not both");
        }
    }

    /** Whether any layer attends to another's cache. */
    public boolean shares() {
        return adjacentPairs || !groups.isEmpty();
    }

    /**
     * "0-1,2-3" into groups of adjacent layers, each at least two layers, not overlapping; blank
     * means {@code whenBlank}.
     */
    public static LayerSharing parse(String text, LayerSharing whenBlank) {
        if (text.isBlank()) {
            return whenBlank;
        }
        List<Group> groups = new ArrayList<>();
        int next = 0;
        for (String part : text.split(",")) {
            String[] ends = part.trim().split("-");
            try {
                int first = Integer.parseInt(ends[0].trim());
                int last = ends.length == 2 ? Integer.parseInt(ends[1].trim()) : -1;
                if (ends.length != 2 || last <= first || first < next) {
                    throw new NumberFormatException();
                }
                groups.add(new Group(first, last));
                next = last + 1;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("kvcache.layer-condensed.share-groups: '" + text
                        + "' must list ascending, non-overlapping ranges of at least two layers, like 0-1,2-3");
            }
        }
        return new LayerSharing(groups, false);
    }

    /**
     * The layer each of {@code layers} layers attends to.
     *
     * @throws IllegalArgumentException when a group names a layer the model does not have
     */
    int[] owners(int layers) {
        List<Group> resolved = groups;
        if (adjacentPairs) {
            resolved = new ArrayList<>();
            for (int first = 0; first + 1 < layers; first += 2) {
                resolved.add(new Group(first, first + 1));
            }
        }
        int[] owners = new int[layers];
        for (int layer = 0; layer < layers; layer++) {
            owners[layer] = layer;
        }
        for (Group group : resolved) {
            if (group.last() >= layers) {
                throw new IllegalArgumentException("kvcache.layer-condensed.share-groups: layer " + group.last()
                        + " does not exist; the model has layers 0 to " + (layers - 1));
            }
            for (int layer = group.first(); layer <= group.last(); layer++) {
                owners[layer] = group.first();
            }
        }
        return owners;
    }

    /** The {@code kvcache.layer-condensed.share-groups} value: the groups, or empty for adjacent pairs. */
    @Override
    public String toString() {
        return String.join(",", groups.stream().map(Group::toString).toList());
    }
}
