package dev.continuum.engine;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The planner's choices on cost tables shaped like the machines' (see {@link ProposalPlanner} for the model). */
class ProposalPlannerTest {
    private static final int K = 5;
    /** Memory-bound: the weights are read once whatever the rows. */
    private static final StepCosts FLAT = table(r -> 100);
    /** Compute-bound: every row costs as much as a one-row step. */
    private static final StepCosts LINEAR = table(r -> 100.0 * r);
    /** Between: a step's fixed part and a price per row. */
    private static final StepCosts AFFINE = table(r -> 1000 + 100.0 * r);

    private static StepCosts table(java.util.function.IntToDoubleFunction cost) {
        int[] rows = new int[512];
        double[] nanos = new double[512];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i + 1;
            nanos[i] = cost.applyAsDouble(i + 1);
        }
        return new StepCosts(rows, nanos);
    }

    private static int[] plan(ProposalPlanner planner, int decoding, double acceptance, int candidates, int room) {
        double[] rates = new double[candidates];
        Arrays.fill(rates, acceptance);
        int[] caps = new int[candidates];
        Arrays.fill(caps, K);
        int[] planned = new int[candidates];
        int total = planner.plan(decoding, candidates, rates, caps, room, planned);
        assertEquals(Arrays.stream(planned).sum(), total);
        return planned;
    }

    @Test
    void freeRowsTakeEveryProposalWorthAnything() {
        ProposalPlanner p = new ProposalPlanner(FLAT, StepCosts.FREE, K, 64);
        // 0.5^4 = 0.0625 still reaches the lowest threshold (0.05), 0.5^5 does not.
        assertArrayEquals(new int[]{4}, plan(p, 1, 0.5, 1, 100));
        assertArrayEquals(new int[]{5}, plan(p, 1, 1.0, 1, 100));
        assertArrayEquals(new int[]{0}, plan(p, 1, 0.0, 1, 100), "proposals that never hold gain nothing");
        assertTrue(p.probeWorthwhile(16));
    }

    @Test
    void rowsAsDearAsStepsNeverPay() {
        ProposalPlanner p = new ProposalPlanner(LINEAR, StepCosts.FREE, K, 64);
        assertArrayEquals(new int[]{0}, plan(p, 1, 1.0, 1, 100), "at best as fast as without: not worth the risk");
        assertArrayEquals(new int[]{0}, plan(p, 1, 0.99, 1, 100));
        assertArrayEquals(new int[]{0, 0, 0, 0}, plan(p, 4, 0.9, 4, 100));
        assertFalse(p.probeWorthwhile(1), "no probe where even perfect proposals do not pay");
    }

    @Test
    void theLargerTheBatchTheSurerAProposalMustBe() {
        ProposalPlanner p = new ProposalPlanner(AFFINE, StepCosts.FREE, K, 64);
        // One sequence: the fixed part dominates, every proposal down to the lowest threshold pays.
        assertArrayEquals(new int[]{5}, plan(p, 1, 0.9, 1, 100));
        // 1.75 tokens for 1 300 beats 1.5 for 1 200 and 1.875 for 1 400.
        assertArrayEquals(new int[]{2}, plan(p, 1, 0.5, 1, 100));
        // 64 sequences: the step already costs 7 400 for 64 tokens, 116 a token; a row costs 100 more.
        int[] unsure = plan(p, 64, 0.5, 64, 1000);
        assertEquals(0, Arrays.stream(unsure).sum(), "a proposal gaining 0.5 token for 100 does not pay");
        int[] sure = plan(p, 64, 0.95, 64, 1000);
        // (64 + 64 x 0.95) / 13 800 beats both the plain step (64 / 7 400) and two each (182.6 / 20 200).
        int[] one = new int[64];
        Arrays.fill(one, 1);
        assertArrayEquals(one, sure);
    }

    @Test
    void aDraftAsDearAsTheTargetNeverPaysAndACheapOneDoes() {
        ProposalPlanner same = new ProposalPlanner(FLAT, FLAT, 3, 64);
        // Three proposals, all holding: 4 tokens for 100 + 3 draft passes of 100, as many per time as plain.
        assertArrayEquals(new int[]{0}, plan(same, 1, 1.0, 1, 100));
        ProposalPlanner half = new ProposalPlanner(FLAT, table(r -> 50), 3, 64);
        assertArrayEquals(new int[]{3}, plan(half, 1, 1.0, 1, 100));
        // Its passes serve every sequence at once: two sequences pay no more for drafting than one.
        assertArrayEquals(new int[]{3, 3}, plan(half, 2, 1.0, 2, 100));
    }

    @Test
    void theBudgetsRoomGoesToTheOldestFirst() {
        ProposalPlanner p = new ProposalPlanner(FLAT, StepCosts.FREE, K, 64);
        assertArrayEquals(new int[]{5, 2, 0}, plan(p, 3, 1.0, 3, 7));
        double[] rates = {0.9, 0.2, 0.9};
        int[] caps = {2, 5, 5};
        int[] planned = new int[3];
        p.plan(3, 3, rates, caps, 100, planned);
        // Each to its own cap and its own acceptance: 0.2^2 = 0.04 is under the lowest threshold.
        assertArrayEquals(new int[]{2, 1, 5}, planned);
    }
}
