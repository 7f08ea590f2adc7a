package io.kvcache.core.kv;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** SnapKV's scores worked out by hand: only the window's queries count, then a max over two neighbours each side. */
class ObservationWindowTest {

    @Test
    void queriesBeforeTheWindowDoNotCountAndScoresArePooled() {
        ObservationWindow window = new ObservationWindow(8, 5);
        // before the window: ignored whatever it holds
        window.add(new float[] {1f, 0f, 0f, 0f}, 4, 4);
        // the window's queries, two query heads at position 5 and one at 6 (seeing one entry more)
        window.add(new float[] {0.5f, 0f, 0f, 0f, 0f, 0.5f}, 6, 5);
        window.add(new float[] {0.25f, 0f, 0f, 0.75f, 0f, 0f}, 6, 5);
        window.add(new float[] {0f, 0f, 0f, 0f, 0f, 0f, 1f}, 7, 6);
        // received: 0.75, 0, 0, 0.75, 0, 0.5, 1, 0
        // pooled over [e-2, e+2]: e0 max(0.75,0,0)=0.75, e1 max(0.75,0,0,0.75)=0.75, e2 0.75,
        // e3 max(0,0,0.75,0,0.5)=0.75, e4 max(0,0.75,0,0.5,1)=1, e5 1, e6 1, e7 max(0.5,1,0)=1
        assertThat(window.scores()).containsExactly(0.75f, 0.75f, 0.75f, 0.75f, 1f, 1f, 1f, 1f);
    }

    @Test
    void aWindowLongerThanThePromptCountsEveryQuery() {
        ObservationWindow window = new ObservationWindow(5, -10);
        window.add(new float[] {1f}, 1, 0);
        window.add(new float[] {0.5f, 0.5f}, 2, 1);
        // received 1.5, 0.5, 0, 0, 0: pooled 1.5, 1.5, 1.5, 0.5, 0
        assertThat(window.scores()).containsExactly(1.5f, 1.5f, 1.5f, 0.5f, 0f);
    }
}
