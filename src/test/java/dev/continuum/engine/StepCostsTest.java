package dev.continuum.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepCostsTest {
    @Test
    void interpolatesBetweenMeasuredRowsAndExtrapolatesByTheLastSlope() {
        StepCosts c = new StepCosts(new int[]{1, 2, 4, 8}, new double[]{100, 120, 160, 300});
        assertEquals(0, c.cost(0));
        assertEquals(100, c.cost(1));
        assertEquals(140, c.cost(3));
        assertEquals(195, c.cost(5), 1e-9);
        assertEquals(300, c.cost(8));
        // Past 8 rows: the last segment's 35 per row.
        assertEquals(300 + 35 * 8, c.cost(16), 1e-9);
    }

    @Test
    void aTimeAboveALargerStepsIsAnInterruptionAndAOneRowTableIsFlat() {
        StepCosts spike = new StepCosts(new int[]{1, 2, 3, 4}, new double[]{100, 190, 130, 150});
        assertArrayEquals(new double[]{100, 130, 130, 150}, spike.nanos());
        StepCosts flat = new StepCosts(new int[]{1}, new double[]{50});
        assertEquals(50, flat.cost(1000));
        assertTrue(StepCosts.FREE.free());
        assertEquals(0, StepCosts.FREE.cost(64));
        assertEquals("1 row: 0 us, 2: 0 us, 3: 0 us", new StepCosts(new int[]{1, 2, 3}, new double[3]).describe());
    }

    @Test
    void refusesTablesThatDoNotDescribeSteps() {
        assertThrows(IllegalArgumentException.class, () -> new StepCosts(new int[]{2, 3}, new double[]{1, 2}));
        assertThrows(IllegalArgumentException.class, () -> new StepCosts(new int[]{1, 1}, new double[]{1, 2}));
        assertThrows(IllegalArgumentException.class, () -> new StepCosts(new int[]{1, 2}, new double[]{1}));
        assertThrows(IllegalArgumentException.class, () -> new StepCosts(new int[]{1}, new double[]{Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> new StepCosts(new int[]{1}, new double[]{-1}));
        assertThrows(IllegalArgumentException.class, () -> new StepCosts(new int[0], new double[0]));
    }

    @Test
    void theProbeTimesEachRowCountOnItsOwnBlocksThroughTheSeam() {
        FakeRunner runner = new FakeRunner(512, true);
        runner.allocateKvCache(8, 16);
        StepCosts c = new StepCostProbe(8, 16, 40, Long.MAX_VALUE).measure(runner);
        assertArrayEquals(new int[]{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 40}, c.rows());
        // The context, then each count once untimed and three times timed; the fake checks every read position.
        assertEquals(1 + 11 * (1 + StepCostProbe.REPEATS), runner.steps.size());
        FakeRunner.Step context = runner.steps.get(0);
        assertEquals(StepCostProbe.CONTEXT, context.rows());
        assertArrayEquals(new int[]{0}, context.changedTables(), "the runner hears of the probe's table once");
        for (int i = 1; i < runner.steps.size(); i++) {
            FakeRunner.Step s = runner.steps.get(i);
            assertEquals(s.rows(), s.logitRows(), "every row asks for logits, as verification rows do");
            assertEquals(StepCostProbe.CONTEXT, s.positions()[0]);
            assertEquals(0, s.changedTables().length);
        }
        for (int i = 1; i < c.nanos().length; i++) {
            assertTrue(c.nanos()[i] >= c.nanos()[i - 1]);
        }
    }

    @Test
    void theProbeStopsGrowingAtItsBudgetAndAtTheStoragesEnd() {
        FakeRunner runner = new FakeRunner(512, true);
        runner.allocateKvCache(8, 16);
        assertArrayEquals(new int[]{1, 2}, new StepCostProbe(8, 16, 40, 0).measure(runner).rows(),
                "two counts at least: a slope to extrapolate by");
        FakeRunner small = new FakeRunner(512, true);
        small.allocateKvCache(3, 16);
        // 48 positions: a context of 24, then at most 24 rows.
        assertArrayEquals(new int[]{1, 2, 3, 4, 6, 8, 12, 16, 24},
                new StepCostProbe(3, 16, 100, Long.MAX_VALUE).measure(small).rows());
    }
}
