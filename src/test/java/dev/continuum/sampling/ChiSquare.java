package dev.continuum.sampling;

import java.util.ArrayList;
import java.util.List;

/**
 * Pearson chi-square tests with fixed critical values, for tests that draw with fixed seeds: a statistic above
 * {@link #critical} would occur by chance once in a thousand seeds if the distributions agreed, so with the seeds
 * fixed a pass is a stable, meaningful pass, not luck that may change run to run.
 */
public final class ChiSquare {
    /** Critical values at significance 0.001 for 1..30 degrees of freedom (standard tables). */
    private static final double[] CRITICAL_001 = {10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124,
            27.877, 29.588, 31.264, 32.909, 34.528, 36.123, 37.697, 39.252, 40.790, 42.312, 43.820, 45.315, 46.797,
            48.268, 49.728, 51.179, 52.620, 54.052, 55.476, 56.892, 58.301, 59.703};
    /** Most categories a test keeps before pooling the rest: keeps degrees of freedom within the table. */
    public static final int MAX_CATEGORIES = CRITICAL_001.length + 1;

    private ChiSquare() {
    }

    /** The statistic, its degrees of freedom and the bound it must stay under. */
    public record Result(double statistic, int degreesOfFreedom, double critical) {
        public boolean passes() {
            return statistic < critical;
        }

        @Override
        public String toString() {
            return String.format("chi-square %.3f with %d degrees of freedom (bound at p = 0.001: %.3f)", statistic,
                    degreesOfFreedom, critical);
        }
    }

    public static double critical(int degreesOfFreedom) {
        if (degreesOfFreedom < 1 || degreesOfFreedom > CRITICAL_001.length) {
            throw new IllegalArgumentException("no critical value for " + degreesOfFreedom + " degrees of freedom");
        }
        return CRITICAL_001[degreesOfFreedom - 1];
    }

    /**
     * Goodness of fit of {@code observed} counts to probabilities {@code p} (summing to 1). Categories expected
     * fewer than 5 times are pooled into one (as are all but the {@link #MAX_CATEGORIES} - 1 most likely), so the
     * chi-square approximation holds; categories with p = 0 are left out (a test asserts their counts are 0).
     */
    public static Result goodnessOfFit(long[] observed, double[] p) {
        long n = 0;
        for (long o : observed) {
            n += o;
        }
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < p.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        List<double[]> cells = new ArrayList<>(); // {observed, expected}
        double pooledObserved = 0;
        double pooledExpected = 0;
        for (int i : order) {
            if (p[i] <= 0) {
                continue;
            }
            double expected = n * p[i];
            if (expected >= 5 && cells.size() < MAX_CATEGORIES - 1) {
                cells.add(new double[]{observed[i], expected});
            } else {
                pooledObserved += observed[i];
                pooledExpected += expected;
            }
        }
        if (pooledExpected > 0) {
            cells.add(new double[]{pooledObserved, pooledExpected});
        }
        double stat = 0;
        for (double[] c : cells) {
            stat += (c[0] - c[1]) * (c[0] - c[1]) / c[1];
        }
        int df = cells.size() - 1;
        return new Result(stat, df, critical(Math.max(df, 1)));
    }

    /**
     * Homogeneity of two samples' counts over the same categories: whether {@code a} and {@code b} come from one
     * distribution. Categories with fewer than {@code minCount} draws in the two together are pooled into one (as
     * are all but the {@link #MAX_CATEGORIES} - 1 most frequent).
     */
    public static Result homogeneity(long[] a, long[] b, int minCount) {
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            na += a[i];
            nb += b[i];
        }
        Integer[] order = new Integer[a.length];
        for (int i = 0; i < a.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Long.compare(a[y] + b[y], a[x] + b[x]));
        List<double[]> cells = new ArrayList<>(); // {a, b}
        double pa = 0;
        double pb = 0;
        for (int i : order) {
            if (a[i] + b[i] >= minCount && cells.size() < MAX_CATEGORIES - 1) {
                cells.add(new double[]{a[i], b[i]});
            } else {
                pa += a[i];
                pb += b[i];
            }
        }
        if (pa + pb > 0) {
            cells.add(new double[]{pa, pb});
        }
        double total = na + nb;
        double stat = 0;
        for (double[] c : cells) {
            double ea = na * (c[0] + c[1]) / total;
            double eb = nb * (c[0] + c[1]) / total;
            stat += (c[0] - ea) * (c[0] - ea) / ea + (c[1] - eb) * (c[1] - eb) / eb;
        }
        int df = cells.size() - 1;
        return new Result(stat, df, critical(Math.max(df, 1)));
    }
}
