package dev.continuum.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Perplexity and its uncertainty as llama.cpp computes them: exp(mean NLL), standard error carried through exp. */
class NllStatsTest {
    @Test
    void perplexityAndUncertaintyOfFourValues() {
        NllStats s = new NllStats();
        for (double v : new double[] {1, 2, 3, 4}) {
            s.add(v);
        }
        assertEquals(4, s.count());
        assertEquals(2.5, s.meanNll());
        assertEquals(Math.exp(2.5), s.perplexity());
        // Population variance 1.25, over n - 1 = 3: the standard error sqrt(1.25 / 3).
        assertEquals(Math.sqrt(1.25 / 3), s.meanNllError(), 1e-15);
        assertEquals(Math.sqrt(1.25 / 3) * Math.exp(2.5), s.perplexityError(), 1e-12);
    }

    @Test
    void noSpreadHasNoUncertainty() {
        NllStats s = new NllStats();
        s.add(0.5);
        s.add(0.5);
        assertTrue(Double.isNaN(s.meanNllError()));
    }

    @Test
    void windowGeometryFollowsLlamaCpp() {
        // n_ctx 128: logits of positions 64..126 score tokens 65..127, 63 per window.
        assertEquals(63, WindowLogits.scoredRows(128));
        assertEquals(64, WindowLogits.firstScored(128));
        assertEquals(255, WindowLogits.scoredRows(512));
        assertEquals(2, WindowLogits.scoredRows(5));
    }
}
