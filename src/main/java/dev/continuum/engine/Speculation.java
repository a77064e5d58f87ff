package dev.continuum.engine;

/**
 * How the engine speculates: who proposes, and when proposals are worth their verification rows. Two rules:
 * <ul>
 *   <li>By cost (the default, {@link #BY_COST}): each step, a {@link ProposalPlanner} gives every decoding sequence
 *       the proposals that raise the expected tokens per second, from the target's and the proposer's step costs
 *       measured once when the engine starts ({@link StepCostProbe}) and each sequence's acceptance rate. The
 *       crossover batch size thus follows the model and the machine: a compute-bound 64-wide model stops
 *       speculating at a few sequences, a memory-bound 110M one goes on to about 16.</li>
 *   <li>Fixed ({@code disableAbove >= 0}, {@code --speculative-disable-above N}): every sequence proposes as much
 *       as it may while at most {@code disableAbove} sequences decode, except one whose acceptance fell below
 *       {@code minAcceptance}, as vLLM's {@code speculative_disable_by_batch_size} does.</li>
 * </ul>
 * Either way a sequence that stopped proposing proposes once every {@link #PROBE_INTERVAL} steps to measure again.
 *
 * @param proposer      the proposer ({@link TokenProposer#NONE}: plain decoding)
 * @param disableAbove  {@link #BY_COST}, or the fixed rule's largest batch that speculates
 * @param minAcceptance the fixed rule's acceptance rate (per proposal position, smoothed) below which a sequence
 *                      stops proposing
 * @param targetCosts   by cost: the target's step costs, or null to measure them when the engine starts
 * @param proposerCosts by cost: the proposer's own step costs, or null to have the proposer measure them
 */
public record Speculation(TokenProposer proposer, int disableAbove, double minAcceptance, StepCosts targetCosts,
                          StepCosts proposerCosts) {
    /** Steps between probes of a sequence that stopped proposing. */
    public static final int PROBE_INTERVAL = 16;
    /** {@code disableAbove} of the rule by measured cost. */
    public static final int BY_COST = -1;
    /**
     * The rule by cost proposes nothing while more sequences than this decode: measured on this 2-core machine,
     * its plans at 16 sequences came out at 0.80x (stories260K) and 0.93x (dummy:110m) of speculation off, medians
     * of five noisy rounds, where no proposals at all keep 1.0x (PERFORMANCE.md, "Speculative decoding").
     */
    public static final int BY_COST_MAX_BATCH = 8;
    /**
     * The fixed rule's acceptance rate below which a sequence stops proposing: a verification row costs about a
     * third of a one-row step on stories260K, where rows are dearest (PERFORMANCE.md, "Speculative decoding"), so
     * a proposal accepted less often than that costs more than it saves there.
     */
    public static final double DEFAULT_MIN_ACCEPTANCE = 0.3;

    public static final Speculation OFF = new Speculation(TokenProposer.NONE, 0, 0);

    public Speculation {
        if (proposer == null || disableAbove < BY_COST || !(minAcceptance >= 0 && minAcceptance <= 1)) {
            throw new IllegalArgumentException("speculation needs a proposer, disable-above >= 0 (got " + disableAbove
                    + ") and a minimum acceptance in [0, 1] (got " + minAcceptance + ")");
        }
        if (disableAbove != BY_COST && (targetCosts != null || proposerCosts != null)) {
            throw new IllegalArgumentException("step costs belong to the rule by cost, not to disable-above "
                    + disableAbove);
        }
    }

    /** The fixed rule: proposals while at most {@code disableAbove} sequences decode. */
    public Speculation(TokenProposer proposer, int disableAbove, double minAcceptance) {
        this(proposer, disableAbove, minAcceptance, null, null);
    }

    /** {@code proposer} by measured cost: the default. */
    public static Speculation of(TokenProposer proposer) {
        return new Speculation(proposer, BY_COST, DEFAULT_MIN_ACCEPTANCE, null, null);
    }

    /** {@code proposer} by the given costs instead of measured ones (tests, reproducible decisions). */
    public static Speculation byCost(TokenProposer proposer, StepCosts target, StepCosts proposerCosts) {
        if (target == null || proposerCosts == null) {
            throw new IllegalArgumentException("given step costs need both tables");
        }
        return new Speculation(proposer, BY_COST, DEFAULT_MIN_ACCEPTANCE, target, proposerCosts);
    }

    /** {@code proposer} by measured cost, or by the fixed rule when {@code disableAbove >= 0}. */
    public static Speculation of(TokenProposer proposer, int disableAbove) {
        return disableAbove == BY_COST ? of(proposer)
                : new Speculation(proposer, disableAbove, DEFAULT_MIN_ACCEPTANCE);
    }

    public boolean enabled() {
        return proposer.maxProposedTokens() > 0;
    }

    /** Whether the rule is by cost. */
    public boolean byCost() {
        return disableAbove == BY_COST;
    }

    /** The rule in words, for logs. */
    public String describeRule() {
        return byCost() ? "proposals where measured step costs say they pay"
                : "proposals while at most " + disableAbove + " sequences decode";
    }
}
