package io.kvcache.core.generate;

import java.util.List;

/**
 * Finds stop strings in streamed text. Text that could still turn into a stop string is held back,
 * so a caller never sees the start of a stop string that later completes.
 */
final class StopStringMatcher {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopStringMatcher(List<String> stops) {
        this.stops = stops;
    }

    /** Adds text; returns what is safe to release. After a stop string is found, nothing more is released. */
    String push(String text) {
        if (stopped) {
            return "";
        }
        held.append(text);
        int earliest = -1;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
            }
        }
        if (earliest >= 0) {
            stopped = true;
            String released = held.substring(0, earliest);
            held.setLength(0);
            return released;
        }
        int keep = longestPendingPrefix();
        String released = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return released;
    }

    boolean stopped() {
        return stopped;
    }

    /** Text held back at the end because it is the start of some stop string; released when generation ends otherwise. */
    String flush() {
        String rest = held.toString();
        held.setLength(0);
        return rest;
    }

    private int longestPendingPrefix() {
        String text = held.toString();
        int best = 0;
        for (String stop : stops) {
            for (int len = Math.min(stop.length() - 1, text.length()); len > best; len--) {
                if (text.regionMatches(text.length() - len, stop, 0, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
