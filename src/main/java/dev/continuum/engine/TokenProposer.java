package dev.continuum.engine;

/**
 * Proposes tokens to follow a decoding sequence, for the scheduler to verify in the same forward pass as
 * everyone's decode tokens (speculative decoding). The target model scores all proposals at once; each is kept
 * while it equals the token the sequence's own sampler draws at that position, so the output is exactly what
 * decoding without proposals gives, only in fewer steps when proposals are good.
 */
public interface TokenProposer {
    /** Proposes nothing: plain decoding. */
    TokenProposer NONE = new TokenProposer() {
        @Override
        public int maxProposedTokens() {
            return 0;
        }

        @Override
        public int propose(int[] tokens, int numTokens, int[] out, int max) {
            return 0;
        }
    };

    /** Most tokens proposed for one sequence in one step. */
    int maxProposedTokens();

    /**
     * Writes up to {@code max} tokens likely to follow {@code tokens[0..numTokens)} into {@code out[0..)} and
     * returns how many; 0 when it has no guess. Called on the engine thread; must not allocate per call.
     */
    int propose(int[] tokens, int numTokens, int[] out, int max);
}
