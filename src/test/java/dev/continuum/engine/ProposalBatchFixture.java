package dev.continuum.engine;

import dev.continuum.sampling.SamplingParams;
import dev.continuum.tokenizer.ByteLevelTokenizer;

import java.util.List;

/**
 * Builds a {@link ProposalBatch} of sequences with given known tokens, for proposer unit tests outside this
 * package: the batch's entries are engine-internal sequences, which only this package can make.
 */
public final class ProposalBatchFixture {
    private ProposalBatchFixture() {
    }

    /**
     * A batch whose entry {@code i} knows {@code known[i]} (as its prompt), sits in KV slot {@code i} and has room
     * for {@code maxTokens[i]} proposals (at most {@code capacity}).
     */
    public static ProposalBatch of(int vocab, int capacity, int[] maxTokens, int[]... known) {
        ProposalBatch batch = new ProposalBatch(known.length);
        ByteLevelTokenizer tokenizer = new ByteLevelTokenizer(vocab);
        for (int i = 0; i < known.length; i++) {
            GenerationRequest r = new GenerationRequest("p" + i, known[i], capacity + 1, SamplingParams.GREEDY,
                    List.of(), true, 1, -1);
            ActiveRequest owner = new ActiveRequest(r, new CollectingSink(1), new RequestHandle(), 0, Long.MAX_VALUE);
            Sequence s = new Sequence(owner, 0, known[i].length + capacity + 1, tokenizer, vocab, capacity);
            s.slot = i;
            batch.enter(s, maxTokens[i]);
        }
        return batch;
    }

    /** Entry {@code i}'s proposals. */
    public static int[] proposals(ProposalBatch batch, int i) {
        int[] out = new int[batch.count(i)];
        for (int j = 0; j < out.length; j++) {
            out[j] = batch.proposal(i, j);
        }
        return out;
    }
}
