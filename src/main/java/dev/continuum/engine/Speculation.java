package dev.continuum.engine;

/**
 * How the engine speculates: who proposes, and when proposals are worth their verification rows.
 *
 * @param proposer      the proposer ({@link TokenProposer#NONE}: plain decoding)
 * @param disableAbove  no proposals in a step where more sequences than this decode: past it the batch itself
 *                      keeps the model busy and verification rows cost more than the tokens they save
 *                      ({@code --speculative-disable-above})
 * @param minAcceptance a sequence whose recent acceptance rate (accepted / proposed, smoothed) falls below this
 *                      stops proposing, except for one probe every {@link #PROBE_INTERVAL} steps that measures again
 */
public record Speculation(TokenProposer proposer, int disableAbove, double minAcceptance) {
    /** Steps between probes of a sequence whose acceptance fell below the threshold. */
    public static final int PROBE_INTERVAL = 16;
    /**
     * Decoding sequences above which proposals stop, unless configured: the measured crossover of a memory-bound
     * 110M model (prompt lookup 1.18x at 8 sequences, 0.97x at 16; a 64-wide model's, whose rows are
     * compute-bound, lies between 4 and 8). PERFORMANCE.md, "Speculative decoding".
     */
    public static final int DEFAULT_DISABLE_ABOVE = 8;
    /** {@link #DEFAULT_DISABLE_ABOVE} as a constant string, for annotation defaults ({@code @WithDefault}). */
    public static final String DEFAULT_DISABLE_ABOVE_TEXT = "" + DEFAULT_DISABLE_ABOVE;
    /**
     * Smoothed acceptance below which a sequence stops proposing: a verification row costs about a third of a
     * one-row step on stories260K, where rows are dearest (PERFORMANCE.md, "Speculative decoding"), so a proposal
     * accepted less often than that costs more than it saves there.
     */
    public static final double DEFAULT_MIN_ACCEPTANCE = 0.3;

    public static final Speculation OFF = new Speculation(TokenProposer.NONE, 0, 0);

    public Speculation {
        if (proposer == null || disableAbove < 0 || !(minAcceptance >= 0 && minAcceptance <= 1)) {
            throw new IllegalArgumentException("speculation needs a proposer, disable-above >= 0 (got " + disableAbove
                    + ") and a minimum acceptance in [0, 1] (got " + minAcceptance + ")");
        }
    }

    /** {@code proposer} with the default decision thresholds. */
    public static Speculation of(TokenProposer proposer) {
        return new Speculation(proposer, DEFAULT_DISABLE_ABOVE, DEFAULT_MIN_ACCEPTANCE);
    }

    public boolean enabled() {
        return proposer.maxProposedTokens() > 0;
    }
}
