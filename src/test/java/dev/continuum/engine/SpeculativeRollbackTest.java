package dev.continuum.engine;

import dev.continuum.kvcache.BlockManager;
import dev.continuum.runner.ForwardingRunner;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.speculative.DraftModelProposer;
import dev.continuum.tokenizer.ByteLevelTokenizer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rejected proposals give back what they took, in the target's cache and in the draft's: the scheduler driven
 * step by step over {@link FakeRunner} (whose logits depend on every cached position, so a stale or missing block
 * changes the tokens), with a draft model that is often wrong. After every step, each running sequence holds
 * exactly the target blocks its computed tokens need, the draft holds exactly the blocks of what it has cached
 * (never more than the target computed), neither pool holds anything for anyone else, and both are empty when
 * everything is done, preempted, finished or cancelled mid-speculation.
 */
class SpeculativeRollbackTest {
    private static final int CONTEXT = 512;

    /** A fake model that agrees with {@link FakeRunner} except at every third position, where it insists on a wrong token. */
    private static final class OftenWrongRunner extends ForwardingRunner {
        OftenWrongRunner() {
            super(new FakeRunner(CONTEXT, true));
        }

        @Override
        public StepOutput forward(StepBatch batch) {
            StepOutput out = inner.forward(batch);
            for (int j = 0; j < batch.logitRowCount(); j++) {
                int position = batch.position(batch.logitRow(j));
                if (position % 3 == 1) {
                    out.logits()[out.offset(j) + 3 + position * 7 % (FakeRunner.VOCAB - 3)] = 50f;
                }
            }
            return out;
        }

        @Override
        public String describe() {
            return "often wrong fake runner";
        }
    }

    private static final class Harness {
        final FakeRunner runner = new FakeRunner(CONTEXT, true);
        final DraftModelProposer draft = new DraftModelProposer(new OftenWrongRunner(), 4, null);
        final EngineMetrics metrics = new EngineMetrics(new SimpleMeterRegistry(), () -> 0, () -> 0, 4);
        final WaitingWork unadmitted = new WaitingWork();
        final Scheduler scheduler;

        Harness(EngineConfig config) {
            scheduler = new Scheduler(runner, config, new ByteLevelTokenizer(FakeRunner.VOCAB), metrics, unadmitted,
                    Speculation.fixed(draft, Integer.MAX_VALUE, 0));
        }

        CollectingSink submit(GenerationRequest request, RequestHandle handle) {
            CollectingSink sink = new CollectingSink(request.n());
            ActiveRequest r = new ActiveRequest(request, sink, handle, System.nanoTime(), Long.MAX_VALUE);
            assertNull(unadmitted.tryAdd(r, Integer.MAX_VALUE, Long.MAX_VALUE));
            scheduler.add(r);
            return sink;
        }

        /** One step, then the holdings checked as they stand at the step boundary. */
        boolean step() {
            boolean more = scheduler.step();
            scheduler.endStep();
            assertHoldingsExact();
            return more;
        }

        void drain() {
            for (int steps = 0; step(); steps++) {
                assertTrue(steps < 10_000, "the scheduler keeps stepping without finishing");
            }
        }

        void assertHoldingsExact() {
            BlockManager target = scheduler.blocks();
            BlockManager drafts = draft.blocks();
            int targetHeld = 0;
            int draftHeld = 0;
            for (Sequence s : scheduler.runningSequences()) {
                assertEquals(target.blocksFor(s.numComputedTokens), target.blocksHeld(s.slot),
                        "target blocks of slot " + s.slot + " with " + s.numComputedTokens + " computed");
                int cached = draft.cachedTokens(s.slot);
                assertTrue(cached <= s.numComputedTokens, "the draft caches no more than the target computed");
                assertEquals(drafts.blocksFor(cached), drafts.blocksHeld(s.slot),
                        "draft blocks of slot " + s.slot + " with " + cached + " cached");
                targetHeld += target.blocksHeld(s.slot);
                draftHeld += drafts.blocksHeld(s.slot);
            }
            assertEquals(targetHeld, target.usedBlocks(), "the target's pool holds only running sequences' blocks");
            assertEquals(draftHeld, drafts.usedBlocks(), "the draft's pool holds only running sequences' blocks");
        }

        void assertNothingHeld() {
            assertEquals(0, scheduler.blocks().usedBlocks());
            assertEquals(0, draft.blocks().usedBlocks());
        }
    }

    private static int[] prompt(int length, int seed) {
        int[] p = new int[length];
        p[0] = 1;
        for (int i = 1; i < length; i++) {
            p[i] = 3 + (seed * 131 + i * 17) % (FakeRunner.VOCAB - 3);
        }
        return p;
    }

    private static GenerationRequest request(int[] prompt, int maxTokens, SamplingParams sampling) {
        return new GenerationRequest("r", prompt, maxTokens, sampling, List.of(), false, 1, -1);
    }

    private static int[] tokens(CollectingSink sink) {
        return sink.tokens.get(0).stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void rejectedDraftsGiveTheirBlocksBackInBothCachesStepByStep() {
        // Blocks of 2 positions: every rejection crosses block boundaries.
        Harness h = new Harness(new EngineConfig(4, 64, 64, 2, 256, 64));
        List<int[]> prompts = new ArrayList<>();
        List<CollectingSink> sinks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            prompts.add(prompt(5 + i, i));
            sinks.add(h.submit(request(prompts.get(i), 30, SamplingParams.GREEDY), new RequestHandle()));
        }
        h.drain();
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(FakeRunner.greedy(prompts.get(i), 30, true), tokens(sinks.get(i)), "request " + i);
        }
        long proposed = h.metrics.draftTokens();
        long accepted = h.metrics.acceptedTokens();
        assertTrue(accepted > 0 && accepted < proposed * 3 / 4, "many rejections: " + accepted + "/" + proposed);
        h.assertNothingHeld();
    }

    @Test
    void sampledDraftsAndPreemptionKeepBothCachesExact() {
        // 14 blocks of 4 for six sequences growing to ~38 tokens (10 blocks each): preemption on every side.
        Harness h = new Harness(new EngineConfig(6, 64, 64, 4, 14, 56));
        List<int[]> prompts = new ArrayList<>();
        List<CollectingSink> sinks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            prompts.add(prompt(6 + i % 3, 20 + i));
            SamplingParams sampling = i % 2 == 0 ? SamplingParams.GREEDY
                    : new SamplingParams(1f, 0, 1f, 0f, 0.2f, 0.1f, 1.1f, 40L + i);
            sinks.add(h.submit(request(prompts.get(i), 30, sampling), new RequestHandle()));
        }
        h.drain();
        for (int i = 0; i < 6; i += 2) {
            assertArrayEquals(FakeRunner.greedy(prompts.get(i), 30, true), tokens(sinks.get(i)), "greedy request " + i);
        }
        for (int i = 1; i < 6; i += 2) {
            assertEquals(30, tokens(sinks.get(i)).length, "sampled request " + i + " ran to its length");
        }
        assertTrue(h.metrics.preemptions() > 0, "the pool is too small for all six");
        assertTrue(h.metrics.acceptedTokens() < h.metrics.draftTokens(), "rejections happened");
        h.assertNothingHeld();
    }

    @Test
    void cancellingWhileSpeculatingFreesBothCaches() {
        Harness h = new Harness(new EngineConfig(2, 64, 64, 2, 256, 256));
        RequestHandle cancelled = new RequestHandle();
        CollectingSink gone = h.submit(request(prompt(7, 3), 200, SamplingParams.GREEDY), cancelled);
        int[] other = prompt(6, 4);
        CollectingSink stays = h.submit(request(other, 40, SamplingParams.GREEDY), new RequestHandle());
        long verified = 0;
        while (h.metrics.verificationSteps() < 6) {
            verified = h.metrics.verificationSteps();
            assertTrue(h.step());
        }
        assertTrue(verified > 0 && h.draft.blocks().usedBlocks() > 0, "both speculate and the draft holds blocks");
        cancelled.cancel();
        h.drain();
        assertEquals(FinishReason.CANCELLED, gone.reasons.get(0));
        assertArrayEquals(FakeRunner.greedy(other, 40, true), tokens(stays));
        h.assertNothingHeld();
    }
}
