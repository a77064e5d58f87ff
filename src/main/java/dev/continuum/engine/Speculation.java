package dev.continuum.engine;

/**
 * How the engine speculates: who proposes, and by which {@link Rule} proposals are worth their verification rows.
 * Either way a sequence that stopped proposing proposes once every {@link #PROBE_INTERVAL} steps to measure again.
 *
 * @param proposer the proposer ({@link TokenProposer#NONE}: plain decoding)
 * @param rule     when proposals are made: {@link ByCost} or {@link Fixed}
 */
public record Speculation(TokenProposer proposer, Rule rule) {
    /** Steps between probes of a sequence that stopped proposing. */
    public static final int PROBE_INTERVAL = 16;
    /** The value of {@code --speculative-disable-above} (and its property) that stands for {@link ByCost}. */
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

    public static final Speculation OFF = new Speculation(TokenProposer.NONE, new Fixed(0, 0));

    /** When proposals are worth their verification rows. */
    public sealed interface Rule permits ByCost, Fixed {
    }

    /**
     * By cost (the default): each step, a {@link ProposalPlanner} gives every decoding sequence the proposals that
     * raise the expected tokens per second, from the target's and the proposer's step costs and each sequence's
     * acceptance rate; no proposals while more than {@link #BY_COST_MAX_BATCH} sequences decode. The crossover
     * thus follows the model and the machine: a compute-bound 64-wide model stops speculating at a few
     * sequences, a memory-bound 110M one goes on.
     *
     * @param target   the target's step costs, or null to measure them when the engine starts ({@link StepCostProbe})
     * @param proposer the proposer's own step costs, or null to have the proposer measure them; given together
     *                 with {@code target} or not at all
     */
    public record ByCost(StepCosts target, StepCosts proposer) implements Rule {
        /** Both tables measured when the engine starts. */
        public static final ByCost MEASURED = new ByCost(null, null);

        public ByCost {
            if ((target == null) != (proposer == null)) {
                throw new IllegalArgumentException("given step costs need both tables, the target's and the"
                        + " proposer's");
            }
        }

        /** Whether the tables are to be measured when the engine starts. */
        public boolean measured() {
            return target == null;
        }
    }

    /**
     * Fixed ({@code --speculative-disable-above N}): every sequence proposes as much as it may while at most
     * {@code disableAbove} sequences decode, except one whose acceptance fell below {@code minAcceptance}, as vLLM's
     * {@code speculative_disable_by_batch_size} does.
     *
     * @param disableAbove  the largest batch that speculates, at least 0
     * @param minAcceptance the acceptance rate (per proposal position, smoothed) below which a sequence stops
     *                      proposing, in [0, 1]
     */
    public record Fixed(int disableAbove, double minAcceptance) implements Rule {
        public Fixed {
            if (disableAbove < 0 || !(minAcceptance >= 0 && minAcceptance <= 1)) {
                throw new IllegalArgumentException("the fixed rule needs disable-above >= 0 (got " + disableAbove
                        + ") and a minimum acceptance in [0, 1] (got " + minAcceptance + ")");
            }
        }
    }

    public Speculation {
        if (proposer == null || rule == null) {
            throw new IllegalArgumentException("speculation needs a proposer and a rule");
        }
    }

    /** {@code proposer} by measured cost: the default. */
    public static Speculation of(TokenProposer proposer) {
        return new Speculation(proposer, ByCost.MEASURED);
    }

    /** {@code proposer} by the given costs instead of measured ones (tests, reproducible decisions). */
    public static Speculation byCost(TokenProposer proposer, StepCosts target, StepCosts proposerCosts) {
        if (target == null || proposerCosts == null) {
            throw new IllegalArgumentException("given step costs need both tables");
        }
        return new Speculation(proposer, new ByCost(target, proposerCosts));
    }

    /** {@code proposer} by the fixed rule. */
    public static Speculation fixed(TokenProposer proposer, int disableAbove, double minAcceptance) {
        return new Speculation(proposer, new Fixed(disableAbove, minAcceptance));
    }

    /**
     * {@code proposer} as {@code --speculative-disable-above} says: by measured cost for {@link #BY_COST}, else
     * the fixed rule with {@link #DEFAULT_MIN_ACCEPTANCE}.
     */
    public static Speculation of(TokenProposer proposer, int disableAbove) {
        return disableAbove == BY_COST ? of(proposer) : fixed(proposer, disableAbove, DEFAULT_MIN_ACCEPTANCE);
    }

    public boolean enabled() {
        return proposer.maxProposedTokens() > 0;
    }

    /** The rule in words, for logs. */
    public String describeRule() {
        return switch (rule) {
            case ByCost c -> "proposals where measured step costs say they pay";
            case Fixed f -> "proposals while at most " + f.disableAbove() + " sequences decode";
        };
    }
}
