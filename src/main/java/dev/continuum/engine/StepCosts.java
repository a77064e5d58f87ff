package dev.continuum.engine;

import java.util.Arrays;

/**
 * What one forward step costs as a function of its rows, measured once ({@link StepCostProbe}): the speculation
 * planner's price list. A decode step of {@code B} sequences costs {@code cost(B)}; verifying {@code K} proposals
 * besides costs {@code cost(B + K) - cost(B)} more. On a memory-bound model the weights are read once whatever the
 * rows, so extra rows are nearly free; on a compute-bound one (a 64-wide model, or a large batch) each row costs
 * nearly as much as a step, and proposals pay only when almost all are accepted.
 *
 * <p>Between measured row counts the cost is interpolated linearly; past the last one it grows by the last
 * segment's slope (where the step is compute-bound and the cost linear in its rows).
 *
 * @param rows  measured row counts, strictly increasing, the first 1
 * @param nanos the step's time at each, made non-decreasing by lowering any that exceeds a larger step's: a step
 *              never costs more than a larger one, and a measurement errs high (an interruption), not low
 */
public record StepCosts(int[] rows, double[] nanos) {
    /** No cost at all: a proposer that computes nothing (prompt lookup). */
    public static final StepCosts FREE = new StepCosts(new int[]{1}, new double[]{0});

    public StepCosts {
        if (rows == null || nanos == null || rows.length == 0 || rows.length != nanos.length || rows[0] != 1) {
            throw new IllegalArgumentException("step costs need as many times as row counts, starting at 1 row");
        }
        rows = rows.clone();
        nanos = nanos.clone();
        for (int i = 0; i < rows.length; i++) {
            if (i > 0 && rows[i] <= rows[i - 1]) {
                throw new IllegalArgumentException("row counts must increase: " + Arrays.toString(rows));
            }
            if (!(nanos[i] >= 0) || Double.isInfinite(nanos[i])) {
                throw new IllegalArgumentException("step times must be finite and >= 0: " + Arrays.toString(nanos));
            }
        }
        for (int i = rows.length - 2; i >= 0; i--) {
            nanos[i] = Math.min(nanos[i], nanos[i + 1]);
        }
    }

    /** The step's time with {@code r} rows; 0 rows cost nothing (no step). */
    public double cost(int r) {
        if (r <= 0) {
            return 0;
        }
        int last = rows.length - 1;
        if (r >= rows[last]) {
            double slope = last == 0 ? 0 : (nanos[last] - nanos[last - 1]) / (rows[last] - rows[last - 1]);
            return nanos[last] + slope * (r - rows[last]);
        }
        int i = 1;
        while (rows[i] < r) {
            i++;
        }
        double f = (double) (r - rows[i - 1]) / (rows[i] - rows[i - 1]);
        return nanos[i - 1] + f * (nanos[i] - nanos[i - 1]);
    }

    /** Whether this is {@link #FREE}'s table (nothing measured, nothing to pay). */
    public boolean free() {
        return rows.length == 1 && nanos[0] == 0;
    }

    /** The table for logs: {@code "1: 130 us, 2: 181 us, ..."}. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < rows.length; i++) {
            b.append(i == 0 ? "" : ", ").append(rows[i]).append(i == 0 ? " row: " : ": ")
                    .append(Math.round(nanos[i] / 1000)).append(" us");
        }
        return b.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StepCosts c && Arrays.equals(rows, c.rows) && Arrays.equals(nanos, c.nanos);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(rows) + Arrays.hashCode(nanos);
    }

    @Override
    public String toString() {
        return "StepCosts[" + describe() + "]";
    }
}
