package io.kvcache.core.kv;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Positions as runs against the same positions listed, and their bytes counted by hand. */
class PositionsTest {

    private static Positions of(boolean inRuns, int... positions) {
        Positions p = new Positions(inRuns);
        for (int position : positions) {
            p.add(position);
        }
        return p;
    }

    @Test
    void runsAnswerAsTheListDoesAndCostEightBytesARun() {
        int[] window = {0, 1, 2, 3, 100, 101, 102, 103, 104};
        Positions runs = of(true, window);
        Positions listed = of(false, window);
        assertThat(runs.toArray()).containsExactly(window);
        assertThat(runs.runs()).isEqualTo(2);
        // 2 runs of (first position, first entry) against 9 listed positions
        assertThat(runs.bytesHeld()).isEqualTo(16);
        assertThat(listed.bytesHeld()).isEqualTo(36);
        for (int position = -1; position <= 106; position++) {
            assertThat(runs.countUpTo(position)).as("up to " + position).isEqualTo(listed.countUpTo(position));
        }
        assertThat(runs.countUpTo(3)).isEqualTo(4);
        assertThat(runs.countUpTo(50)).isEqualTo(4);
        assertThat(runs.countUpTo(102)).isEqualTo(7);
    }

    @Test
    void retainingSplitsAndJoinsRuns() {
        Positions runs = of(true, 0, 1, 2, 3, 4, 5, 6, 7);
        // keep 0, 1, 3, 4, 5, 7: runs [0,1], [3,5], [7]
        runs.retain(new int[] {0, 1, 3, 4, 5, 7}, 6);
        assertThat(runs.toArray()).containsExactly(0, 1, 3, 4, 5, 7);
        assertThat(runs.runs()).isEqualTo(3);
        assertThat(runs.bytesHeld()).isEqualTo(24);
        runs.add(8);
        assertThat(runs.runs()).isEqualTo(3);
        assertThat(runs.get(6)).isEqualTo(8);
        Positions copy = runs.copy();
        runs.retain(new int[] {0}, 1);
        assertThat(runs.toArray()).containsExactly(0);
        assertThat(copy.toArray()).containsExactly(0, 1, 3, 4, 5, 7, 8);
    }
}
