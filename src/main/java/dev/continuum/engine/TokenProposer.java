package dev.continuum.engine;

/**
 * Proposes tokens to follow decoding sequences, for the scheduler to verify in the same forward pass as everyone's
 * decode tokens (speculative decoding). Once per step the scheduler hands it a {@link ProposalBatch} of the
 * sequences that may speculate; the target model then scores every proposal at once and accepts a prefix of them
 * (see {@link Sequence#verify}), so the output follows the target's distribution exactly, only in fewer steps when
 * proposals are good.
 *
 * <p>A proposer that keeps state per sequence (a draft model's KV cache) keys it by KV slot: the scheduler says
 * when a slot's sequence lost proposed tokens ({@link #truncate}) and when the slot was let go ({@link #release}).
 * All calls come from the engine thread.
 */
public interface TokenProposer extends AutoCloseable {
    /** Proposes nothing: plain decoding. */
    TokenProposer NONE = new TokenProposer() {
        @Override
        public int maxProposedTokens() {
            return 0;
        }

        @Override
        public void propose(ProposalBatch batch) {
        }

        @Override
        public String describe() {
            return "none";
        }
    };

    /** Most tokens proposed for one sequence in one step ({@code --num-speculative-tokens}). */
    int maxProposedTokens();

    /**
     * Called once by the engine before the first step, with its limits (slots, blocks, the longest sequence), so a
     * proposer with a cache of its own can size it.
     */
    default void start(EngineConfig config) {
    }

    /**
     * What this proposer's own steps cost, for the rule by cost ({@link Speculation#byCost}): measured with
     * {@code probe} after {@link #start}, before the first proposal. The default, {@link StepCosts#FREE}, suits a
     * proposer that computes nothing (prompt lookup); a draft model times its runner.
     */
    default StepCosts measureCosts(StepCostProbe probe) {
        return StepCosts.FREE;
    }

    /**
     * Proposes for every entry of {@code batch}, up to {@link ProposalBatch#maxTokens} tokens each (none is
     * fine), with {@link ProposalBatch#add} (a deterministic guess) or {@link ProposalBatch#draw} (a draw from a
     * draft model's logits under the sequence's own sampling parameters). Must not allocate per call.
     */
    void propose(ProposalBatch batch);

    /**
     * The sequence in {@code slot} keeps only its first {@code tokens} tokens as this proposer last saw them
     * (the rest were rejected proposals): anything cached past them is stale.
     */
    default void truncate(int slot, int tokens) {
    }

    /** The sequence in {@code slot} finished or was preempted: whatever is kept for the slot goes. */
    default void release(int slot) {
    }

    /** A one-line description for logs, e.g. {@code "n-gram 3, 5 tokens"}. */
    String describe();

    @Override
    default void close() {
    }
}
