package dev.continuum.engine;

/**
 * The sequences that may speculate in one step, handed to a {@link TokenProposer}: for entry {@code i}, its known
 * tokens ({@link #tokens} up to {@link #numTokens}), its KV slot, and room for up to {@link #maxTokens} proposals.
 * A proposer fills each entry either with deterministic guesses ({@link #propose}: prompt lookup) or with draws
 * from a draft model's logits ({@link #draw}), which the engine samples under the sequence's own parameters and
 * remembers the distribution of, for the speculative sampling rule. Reused from step to step.
 */
public final class ProposalBatch {
    private final Sequence[] entries;
    private final int[] maxTokens;
    private int size;

    ProposalBatch(int capacity) {
        entries = new Sequence[capacity];
        maxTokens = new int[capacity];
    }

    void clear() {
        for (int i = 0; i < size; i++) {
            entries[i] = null;
        }
        size = 0;
    }

    /** Adds {@code s} with room for {@code max} proposals; its earlier proposals are dropped. */
    void enter(Sequence s, int max) {
        s.clearDrafts();
        entries[size] = s;
        maxTokens[size] = max;
        size++;
    }

    /** Ends the proposing: tokens drawn from a draft leave the samplers' penalty counts again. */
    void finish() {
        for (int i = 0; i < size; i++) {
            entries[i].endDrafting();
        }
    }

    public int size() {
        return size;
    }

    /** The entry's KV slot: how a proposer with per-sequence state keys it. */
    public int slot(int i) {
        return entries[i].slot;
    }

    /** The entry's tokens: prompt then output; only the first {@link #numTokens} are its. Do not modify. */
    public int[] tokens(int i) {
        return entries[i].tokens;
    }

    public int numTokens(int i) {
        return entries[i].numTokens;
    }

    /** Most proposals the entry may get this step (at least 1). */
    public int maxTokens(int i) {
        return maxTokens[i];
    }

    /** Proposals the entry has so far. */
    public int count(int i) {
        return entries[i].numDrafts;
    }

    /** The entry's {@code j}-th proposal. */
    public int proposal(int i, int j) {
        return entries[i].draftTokens[j];
    }

    /**
     * Appends a deterministic guess (a point mass, for the acceptance rule) to entry {@code i}'s proposals; ignored
     * once it has {@link #maxTokens}. An id outside the vocabulary ends its proposals.
     */
    public void propose(int i, int token) {
        if (entries[i].numDrafts < maxTokens[i]) {
            entries[i].addGuess(token);
        }
    }

    /**
     * Draws entry {@code i}'s next proposal from a draft model's logits {@code logits[offset .. offset + vocab)}
     * under the sequence's sampling parameters (greedy: the argmax after bias and penalties), appends it and
     * returns it. The row may be modified.
     */
    public int draw(int i, float[] logits, int offset) {
        if (entries[i].numDrafts >= maxTokens[i]) {
            throw new IllegalStateException("entry " + i + " already has its " + maxTokens[i] + " proposals");
        }
        return entries[i].drawDraft(logits, offset);
    }
}
