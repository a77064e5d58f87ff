package dev.continuum.engine;

import java.util.Arrays;

/**
 * How many tokens each decoding sequence proposes in a step, chosen for the most expected tokens per second of
 * step time, from measured {@link StepCosts} (the target's, and the proposer's own) and each sequence's
 * acceptance rate.
 *
 * <p>The model: a sequence whose proposals are accepted position by position with probability {@code a} (an
 * estimate, {@link Sequence#acceptanceRate}) gains {@code a + a^2 + ... + a^k} tokens in expectation from {@code k}
 * proposals, beside the one token its row gives anyway. A plan gives every sequence the proposals whose expected
 * gain {@code a^j} reaches a threshold; of the thresholds in {@link #THRESHOLDS} (and "none") the planner takes the
 * plan with the best ratio, if it beats the plain step's by {@link #MIN_GAIN},
 * <pre>
 *   (B + sum of expected gains) / (target(B + proposals) + sum over j of draft(sequences proposing >= j tokens))
 * </pre>
 * where {@code B} decoding sequences make the plain step, and a draft model computes its {@code j}-th proposals
 * for all sequences in one pass. So a memory-bound model, whose extra rows are nearly free, speculates even on
 * modest acceptance; a compute-bound one, or a large batch, only on proposals that almost always hold, or not at
 * all; and a draft as costly as the target never.
 *
 * <p>Reused from step to step; allocates nothing per step.
 */
final class ProposalPlanner {
    /** Gains a proposal must reach to be in a plan; the plans are compared by expected tokens per second. */
    static final double[] THRESHOLDS = {0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05};
    /**
     * How much faster than the plain step a plan must expect to be: the costs and acceptance rates are estimates,
     * and a plan that only ties the plain step risks losing to it.
     */
    static final double MIN_GAIN = 1.02;
    /** A probe of a sequence that stopped proposing is made only where perfect proposals would gain this much. */
    static final double PROBE_GAIN = 1.1;

    private final StepCosts target;
    private final StepCosts draft;
    private final int maxTokens;
    /** Per proposal index j: sequences of the plan being priced that propose more than j tokens. */
    private final int[] atLeast;
    /**
     * {@link #probeWorthwhile} per number of decoding sequences, worked out on first use (the costs are fixed for
     * the planner's life): 0 not yet, 1 yes, 2 no.
     */
    private final byte[] probeVerdicts;
    /** The plan being priced; the best so far is copied out to the caller's array. */
    private final int[] trial;

    /** Plans for steps of at most {@code maxDecoding} decoding sequences, each proposing at most {@code maxTokens}. */
    ProposalPlanner(StepCosts target, StepCosts draft, int maxTokens, int maxDecoding) {
        if (target == null || draft == null || maxTokens < 1 || maxDecoding < 1) {
            throw new IllegalArgumentException("a proposal planner needs the target's and the proposer's costs,"
                    + " and room for a sequence proposing a token");
        }
        this.target = target;
        this.draft = draft;
        this.maxTokens = maxTokens;
        this.atLeast = new int[maxTokens];
        this.probeVerdicts = new byte[maxDecoding + 1];
        this.trial = new int[maxDecoding];
    }

    StepCosts target() {
        return target;
    }

    StepCosts draft() {
        return draft;
    }

    /**
     * Fills {@code planned[i]} with the proposals for candidate {@code i} of {@code n} (at most {@code caps[i]},
     * all of them together at most {@code room}), given {@code decoding} sequences in the step and each
     * candidate's {@code acceptance}; returns the proposals planned (0: the plain step is the best plan).
     */
    int plan(int decoding, int n, double[] acceptance, int[] caps, int room, int[] planned) {
        double best = MIN_GAIN * rate(decoding, decoding, 0);
        int total = 0;
        Arrays.fill(planned, 0, n, 0);
        for (double threshold : THRESHOLDS) {
            double value = price(threshold, decoding, n, acceptance, caps, room, trial);
            if (value > best) {
                best = value;
                total = 0;
                for (int i = 0; i < n; i++) {
                    planned[i] = trial[i];
                    total += trial[i];
                }
            }
        }
        return total;
    }

    /**
     * Whether a sequence that stopped proposing should be probed with one proposal among {@code decoding}: only
     * where a sequence whose every proposal holds would raise the step's rate by {@link #PROBE_GAIN}; elsewhere
     * even perfect proposals do not pay and a probe would only cost.
     */
    boolean probeWorthwhile(int decoding) {
        if (probeVerdicts[decoding] == 0) {
            double plain = rate(decoding, decoding, 0);
            Arrays.fill(atLeast, 1);
            boolean pays = rate(decoding + maxTokens, decoding + maxTokens, maxTokens) > PROBE_GAIN * plain;
            probeVerdicts[decoding] = (byte) (pays ? 1 : 2);
        }
        return probeVerdicts[decoding] == 1;
    }

    /** The plan of {@code threshold} written to {@code plan}, and its expected tokens per nanosecond. */
    private double price(double threshold, int decoding, int n, double[] acceptance, int[] caps, int room,
                         int[] plan) {
        Arrays.fill(atLeast, 0);
        double expected = decoding;
        int proposals = 0;
        for (int i = 0; i < n; i++) {
            double a = acceptance[i];
            double gain = a;
            int k = 0;
            while (k < caps[i] && k < maxTokens && proposals + k < room && gain >= threshold) {
                expected += gain;
                atLeast[k]++;
                gain *= a;
                k++;
            }
            plan[i] = k;
            proposals += k;
        }
        return rate(expected, decoding + proposals, maxTokens);
    }

    /** Expected tokens per nanosecond of a step of {@code rows} rows whose draft passes {@link #atLeast} counts. */
    private double rate(double tokens, int rows, int draftPasses) {
        double nanos = target.cost(rows);
        for (int j = 0; j < draftPasses; j++) {
            nanos += draft.cost(atLeast[j]);
        }
        return tokens / Math.max(nanos, 1); // at least 1 ns: a free table (a test's) compares tokens alone
    }
}
