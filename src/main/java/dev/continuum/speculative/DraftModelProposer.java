package dev.continuum.speculative;

import dev.continuum.engine.EngineConfig;
import dev.continuum.engine.ProposalBatch;
import dev.continuum.engine.StepCostProbe;
import dev.continuum.engine.StepCosts;
import dev.continuum.engine.TokenProposer;
import dev.continuum.kvcache.BlockManager;
import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.tokenizer.Tokenizer;

/**
 * A draft model ({@code --speculative-model}): a smaller model of the same vocabulary, run by its own runner over
 * its own paged KV cache, proposes {@code k} tokens for every speculating sequence, all sequences batched in each
 * of its forward passes:
 *
 * <pre>
 *   pass 0:     each sequence's tokens the draft has not seen yet (its last sampled token, the one or two the
 *               target accepted since, or a whole prompt the first time)  -> logits -> proposal 0
 *   pass j > 0: proposal j-1 of every sequence still proposing            -> logits -> proposal j
 * </pre>
 *
 * The engine draws each proposal from those logits under the sequence's own sampling parameters and keeps its
 * distribution for the acceptance rule. The draft's cache is keyed by the target's KV slot; after verification it
 * keeps only the positions whose tokens the target accepted ({@link #truncate}), the rest are recomputed next step.
 */
public final class DraftModelProposer implements TokenProposer {
    private final ModelRunner draft;
    private final int k;
    private final AutoCloseable owned;
    private BlockManager blocks;
    private StepBatch batch;
    /** Per slot: tokens of its sequence with keys and values in the draft's cache. */
    private int[] computed;
    /** Per batch entry: its logits row in the current pass, or -1 when it proposes no further. */
    private int[] logitRow;
    private int catchUpBudget;

    /**
     * @param draft the draft's runner, for this proposer alone (its KV storage is allocated at {@link #start})
     * @param k     proposals per sequence per step
     * @param owned closed with the proposer (the draft's runner and model), or null
     */
    public DraftModelProposer(ModelRunner draft, int k, AutoCloseable owned) {
        if (k < 1 || k > NgramProposer.MAX_K) {
            throw new IllegalArgumentException(SpeculativeOptions.name("num-speculative-tokens") + " must be in [1, "
                    + NgramProposer.MAX_K
                    + "], got " + k);
        }
        this.draft = draft;
        this.k = k;
        this.owned = owned;
    }

    /**
     * Refuses a draft whose vocabulary differs from the target's: its proposals would be ids of other tokens. Same
     * size and the same piece for every id, as llama.cpp's server checks.
     */
    public static void checkVocabulary(Tokenizer target, int targetVocab, Tokenizer draftTokens, int draftVocab) {
        if (targetVocab != draftVocab || target.vocabSize() != draftTokens.vocabSize()) {
            throw new IllegalArgumentException("the speculative model's vocabulary has " + draftVocab
                    + " tokens, the served model's " + targetVocab + ": a draft must share the target's vocabulary");
        }
        for (int id = 0; id < target.vocabSize(); id++) {
            if (!target.piece(id).equals(draftTokens.piece(id))) {
                throw new IllegalArgumentException("the speculative model's token " + id + " is '"
                        + draftTokens.piece(id) + "', the served model's '" + target.piece(id)
                        + "': a draft must share the target's vocabulary");
            }
        }
        if (target.eosId() != draftTokens.eosId() || target.bosId() != draftTokens.bosId()) {
            throw new IllegalArgumentException("the speculative model's BOS/EOS ids (" + draftTokens.bosId() + "/"
                    + draftTokens.eosId() + ") differ from the served model's (" + target.bosId() + "/"
                    + target.eosId() + ")");
        }
    }

    @Override
    public int maxProposedTokens() {
        return k;
    }

    @Override
    public void start(EngineConfig config) {
        int slots = config.maxNumSeqs();
        blocks = new BlockManager(config.kvBlocks(), config.blockSize(), slots, config.maxModelLen());
        draft.allocateKvCache(config.kvBlocks(), config.blockSize());
        catchUpBudget = config.maxBatchedTokens();
        batch = new StepBatch(catchUpBudget + slots, slots, blocks.tables(), config.blockSize());
        computed = new int[slots];
        logitRow = new int[slots];
    }

    /** The draft runner's step costs, measured on its own KV storage before any sequence is cached there. */
    @Override
    public StepCosts measureCosts(StepCostProbe probe) {
        return probe.measure(draft);
    }

    @Override
    public void propose(ProposalBatch proposals) {
        batch.clear();
        int budget = catchUpBudget;
        for (int i = 0; i < proposals.size(); i++) {
            logitRow[i] = -1;
            int slot = proposals.slot(i);
            int known = proposals.numTokens(i);
            // The last known token was never fed (its logits are what proposes): at least it runs.
            int from = Math.min(computed[slot], known - 1);
            int rows = known - from;
            int fed = Math.min(rows, Math.max(budget, 1));
            // Caught up, it proposes: the known tokens and every proposal but the last (never fed) get positions.
            // Still catching up, only the rows fed now: the cache never holds blocks past what it computed.
            int positions = fed == rows ? known + proposals.maxTokens(i) - 1 : from + fed;
            if (!blocks.reserve(slot, positions)) {
                continue; // the draft's pool is full: no proposals for this one now
            }
            int[] tokens = proposals.tokens(i);
            for (int p = from; p < from + fed; p++) {
                batch.addRow(tokens[p], p, slot);
            }
            budget -= fed;
            computed[slot] = from + fed;
            if (fed == rows) {
                logitRow[i] = batch.logitRowCount();
                batch.requestLogits(batch.rows() - 1);
            } // else: still catching up on a long history; it proposes once caught up
        }
        for (int pass = 0; batch.rows() > 0; pass++) {
            markChangedTables();
            StepOutput out = draft.forward(batch);
            batch.clear();
            for (int i = 0; i < proposals.size(); i++) {
                if (logitRow[i] < 0) {
                    continue;
                }
                int token = proposals.draw(i, out.logits(), out.offset(logitRow[i]));
                logitRow[i] = -1;
                if (pass + 1 < proposals.maxTokens(i)) {
                    int slot = proposals.slot(i);
                    batch.addRow(token, proposals.numTokens(i) + pass, slot);
                    computed[slot]++;
                    logitRow[i] = batch.logitRowCount();
                    batch.requestLogits(batch.rows() - 1);
                }
            }
        }
    }

    private void markChangedTables() {
        for (int i = 0; i < blocks.changedSlotCount(); i++) {
            batch.markTableChanged(blocks.changedSlot(i));
        }
        blocks.clearChanged();
    }

    @Override
    public void truncate(int slot, int tokens) {
        computed[slot] = Math.min(computed[slot], tokens);
        if (!blocks.truncate(slot, computed[slot], draft::copyBlock)) {
            throw new IllegalStateException("the draft's cache could not be truncated for slot " + slot);
        }
    }

    @Override
    public void release(int slot) {
        blocks.release(slot);
        computed[slot] = 0;
    }

    /** Tokens of slot {@code slot}'s sequence with keys and values in the draft's cache, for tests. */
    public int cachedTokens(int slot) {
        return computed[slot];
    }

    /** The draft's block manager, for tests that check what it holds. */
    public BlockManager blocks() {
        return blocks;
    }

    @Override
    public String describe() {
        return "draft model (" + draft.describe() + "), up to " + k + " tokens";
    }

    @Override
    public void close() {
        if (owned != null) {
            try {
                owned.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the speculative model failed", e);
            }
        }
    }
}
