package dev.continuum.speculative;

import dev.continuum.engine.ProposalBatch;
import dev.continuum.engine.TokenProposer;

/**
 * Prompt lookup ({@code --speculative-ngram N}): proposes what followed the most recent earlier occurrence of a
 * sequence's last {@code n} tokens in its own prompt and output. No second model and no state: strong wherever
 * text repeats itself (code edits, summaries, quotes, the stories models), free where it does not (no match, no
 * proposal, no extra rows).
 *
 * <pre>
 *   tokens:  ... a b c x y z ... a b c | ?      n = 3: the suffix "a b c" occurred before, followed by "x y z"
 *   propose: x y z (up to k, and never past the end of what is known)
 * </pre>
 */
public final class NgramProposer implements TokenProposer {
    /** Longest n accepted: matching more than this many tokens adds nothing a shorter match does not find. */
    public static final int MAX_N = 64;
    /** Most tokens proposed per step accepted here ({@code --num-speculative-tokens}). */
    public static final int MAX_K = 32;

    private final int n;
    private final int k;

    public NgramProposer(int n, int k) {
        if (n < 1 || n > MAX_N) {
            throw new IllegalArgumentException(SpeculativeOptions.name("speculative-ngram") + " must be in [1, " + MAX_N
                    + "], got " + n);
        }
        if (k < 1 || k > MAX_K) {
            throw new IllegalArgumentException(SpeculativeOptions.name("num-speculative-tokens") + " must be in [1, "
                    + MAX_K + "], got " + k);
        }
        this.n = n;
        this.k = k;
    }

    @Override
    public int maxProposedTokens() {
        return k;
    }

    @Override
    public void propose(ProposalBatch batch) {
        for (int i = 0; i < batch.size(); i++) {
            int[] tokens = batch.tokens(i);
            int length = batch.numTokens(i);
            int start = lastEarlierMatch(tokens, length, n);
            if (start < 0) {
                continue;
            }
            int end = Math.min(length, start + n + batch.maxTokens(i));
            for (int p = start + n; p < end; p++) {
                batch.propose(i, tokens[p]);
            }
        }
    }

    /**
     * The start of the latest occurrence of the last {@code n} tokens that begins before them (so at least one known
     * token follows it), or -1. Overlapping the suffix is fine: in "a a a a" the match of "a a" at 1 proposes "a".
     */
    static int lastEarlierMatch(int[] tokens, int length, int n) {
        int suffix = length - n;
        if (suffix < 1) {
            return -1;
        }
        int last = tokens[length - 1];
        for (int start = suffix - 1; start >= 0; start--) {
            if (tokens[start + n - 1] != last) {
                continue;
            }
            int j = 0;
            while (j < n - 1 && tokens[start + j] == tokens[suffix + j]) {
                j++;
            }
            if (j == n - 1) {
                return start;
            }
        }
        return -1;
    }

    @Override
    public String describe() {
        return "prompt lookup (n-gram " + n + "), up to " + k + " tokens";
    }
}
