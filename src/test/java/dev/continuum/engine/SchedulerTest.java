package dev.continuum.engine;

import dev.continuum.sampling.SamplingParams;
import dev.continuum.tokenizer.ByteLevelTokenizer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler's three phases against {@link FakeRunner}: no model, no threads, every step driven by the test.
 * Outputs are checked token for token against {@link FakeRunner#greedy}, which the scheduler can only reproduce
 * if every KV block it hands the runner holds the right positions.
 */
class SchedulerTest {
    private static final int CONTEXT = 512;

    /** A scheduler over a fake runner, with the bookkeeping the engine would do around it. */
    private static final class Harness {
        final FakeRunner runner;
        final Scheduler scheduler;
        final EngineMetrics metrics;
        final WaitingWork unadmitted = new WaitingWork();

        Harness(EngineConfig config, boolean avoidEos, TokenProposer proposer) {
            this(config, avoidEos, Speculation.fixed(proposer, Integer.MAX_VALUE, 0));
        }

        Harness(EngineConfig config, boolean avoidEos, Speculation speculation) {
            runner = new FakeRunner(CONTEXT, avoidEos);
            metrics = new EngineMetrics(new SimpleMeterRegistry(), () -> 0, () -> 0,
                    speculation.proposer().maxProposedTokens());
            scheduler = new Scheduler(runner, config, new ByteLevelTokenizer(FakeRunner.VOCAB), metrics, unadmitted,
                    speculation);
        }

        Harness(EngineConfig config) {
            this(config, true, TokenProposer.NONE);
        }

        Submitted submit(GenerationRequest request) {
            return submit(request, System.nanoTime() + java.time.Duration.ofHours(1).toNanos());
        }

        Submitted submit(GenerationRequest request, long deadlineNanos) {
            CollectingSink sink = new CollectingSink(request.n());
            RequestHandle handle = new RequestHandle();
            ActiveRequest r = new ActiveRequest(request, sink, handle, System.nanoTime(), deadlineNanos);
            assertNull(unadmitted.tryAdd(r, Integer.MAX_VALUE, Long.MAX_VALUE));
            scheduler.add(r);
            return new Submitted(sink, handle);
        }

        /** Steps until nothing is left; returns the steps run. */
        int drain() {
            int steps = 0;
            while (scheduler.step()) {
                assertTrue(++steps < 100_000, "the scheduler keeps stepping without finishing");
            }
            return steps;
        }

        int blocksHeld() {
            return scheduler.blocks().usedBlocks();
        }
    }

    private record Submitted(CollectingSink sink, RequestHandle handle) {
        int[] tokens(int choice) {
            return sink.tokens.get(choice).stream().mapToInt(Integer::intValue).toArray();
        }

        FinishReason reason(int choice) {
            return sink.reasons.get(choice);
        }
    }

    private static EngineConfig config(int seqs, int budget, int blockSize, int blocks) {
        return new EngineConfig(seqs, budget, 64, blockSize, blocks, Math.min(64, blocks * blockSize));
    }

    private static int[] prompt(int length, int seed) {
        int[] p = new int[length];
        p[0] = 1;
        for (int i = 1; i < length; i++) {
            p[i] = 3 + (seed * 131 + i * 17) % (FakeRunner.VOCAB - 3);
        }
        return p;
    }

    private static GenerationRequest greedy(int[] prompt, int maxTokens) {
        return request(prompt, maxTokens, SamplingParams.GREEDY, 1, List.of());
    }

    private static GenerationRequest request(int[] prompt, int maxTokens, SamplingParams sampling, int n,
                                             List<String> stop) {
        return new GenerationRequest("r", prompt, maxTokens, sampling, stop, false, n, -1);
    }

    @Test
    void oneRequestGivesTheGreedyReferenceAndReturnsItsBlocks() {
        Harness h = new Harness(config(4, 64, 4, 64));
        int[] p = prompt(10, 1);
        Submitted r = h.submit(greedy(p, 20));
        h.drain();
        assertArrayEquals(FakeRunner.greedy(p, 20, true), r.tokens(0));
        assertEquals(FinishReason.LENGTH, r.reason(0));
        assertEquals(0, h.blocksHeld());
        assertEquals(0, h.unadmitted.requests());
        // One prefill pass of the whole prompt, then one row per decode step; the last token is never run.
        assertEquals(10, h.runner.steps.get(0).rows());
        assertEquals(20, h.runner.steps.size());
    }

    @Test
    void theRunnerHearsOfEveryBlockTableChangeOnce() {
        Harness h = new Harness(config(2, 64, 4, 64));
        int[] p = prompt(6, 1); // blocks 0..1 for the prompt and the first decode position
        h.submit(greedy(p, 8));
        h.drain();
        List<FakeRunner.Step> steps = h.runner.steps;
        int slot = steps.get(0).slots()[0];
        assertArrayEquals(new int[]{slot}, steps.get(0).changedTables(), "admission reserves the prompt's blocks");
        // Decoding writes positions 6, 7, 8, ...: only the step writing position 8 needs a new block.
        for (int i = 1; i < steps.size(); i++) {
            int position = steps.get(i).positions()[0];
            int[] expected = position % 4 == 0 ? new int[]{slot} : new int[0];
            assertArrayEquals(expected, steps.get(i).changedTables(), "step writing position " + position);
        }
    }

    @Test
    void endOfGenerationStopsAndIsNotEmitted() {
        Harness h = new Harness(config(2, 64, 4, 64), false, TokenProposer.NONE);
        // Find a prompt whose greedy continuation reaches EOS early.
        for (int seed = 0; seed < 2000; seed++) {
            int[] p = prompt(6, seed);
            int[] ref = FakeRunner.greedy(p, 30, false);
            int eosAt = indexOf(ref, FakeRunner.EOS);
            if (eosAt > 0) {
                Submitted r = h.submit(greedy(p, 30));
                h.drain();
                assertArrayEquals(Arrays.copyOf(ref, eosAt), r.tokens(0));
                assertEquals(FinishReason.STOP, r.reason(0));
                assertEquals(0, h.blocksHeld());
                return;
            }
        }
        throw new AssertionError("no prompt reaches EOS within 30 tokens");
    }

    @Test
    void seatLimitBoundsRunningSequencesAndLaterRequestsWait() {
        Harness h = new Harness(config(2, 64, 4, 64));
        List<Submitted> all = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            prompts.add(prompt(5 + i, i));
            all.add(h.submit(greedy(prompts.get(i), 8)));
        }
        h.drain();
        for (FakeRunner.Step s : h.runner.steps) {
            assertTrue(s.distinctSlots() <= 2, "at most two sequences per step, got " + s.distinctSlots());
        }
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(FakeRunner.greedy(prompts.get(i), 8, true), all.get(i).tokens(0), "request " + i);
        }
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void tokenBudgetChunksPrefillOldestFirstAndNeverStallsDecoding() {
        Harness h = new Harness(config(4, 8, 4, 64));
        int[] shortPrompt = prompt(3, 1);
        Submitted decoding = h.submit(greedy(shortPrompt, 12));
        assertTrue(h.scheduler.step()); // prefill of the short prompt: 3 rows
        int[] longA = prompt(20, 2);
        int[] longB = prompt(9, 3);
        Submitted a = h.submit(greedy(longA, 4));
        Submitted b = h.submit(greedy(longB, 4));
        h.drain();

        List<FakeRunner.Step> steps = h.runner.steps;
        assertEquals(3, steps.get(0).rows());
        // Step 2: the decode token (slot of the first request) plus 7 of A's prompt; B waits for budget.
        int decodeSlot = steps.get(0).slots()[0];
        FakeRunner.Step second = steps.get(1);
        assertEquals(8, second.rows());
        assertEquals(1, second.rowsOf(decodeSlot));
        assertEquals(decodeSlot, second.slots()[0], "decode tokens come first in the batch");
        // Until A's prompt is done every step is full and carries the decode token; A's chunks precede B's.
        int aSlot = second.slots()[1];
        int aPrefilled = 0;
        for (int i = 1; aPrefilled < 20; i++) {
            FakeRunner.Step s = steps.get(i);
            assertEquals(8, s.rows(), "step " + i + " uses the whole budget");
            assertEquals(1, s.rowsOf(decodeSlot), "step " + i + " decodes the running sequence");
            aPrefilled += s.rowsOf(aSlot);
            if (aPrefilled < 20) {
                assertEquals(7, s.rowsOf(aSlot), "A's chunk takes what decoding leaves");
            }
        }
        assertArrayEquals(FakeRunner.greedy(shortPrompt, 12, true), decoding.tokens(0));
        assertArrayEquals(FakeRunner.greedy(longA, 4, true), a.tokens(0));
        assertArrayEquals(FakeRunner.greedy(longB, 4, true), b.tokens(0));
        for (FakeRunner.Step s : steps) {
            assertTrue(s.rows() <= 8, "no step exceeds the token budget");
        }
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void blockLimitHoldsAdmissionUntilBlocksReturn() {
        // 6 blocks of 4: a 10-token prompt plus 10 tokens needs 5, so the second request must wait.
        Harness h = new Harness(config(4, 64, 4, 6));
        int[] p1 = prompt(10, 1);
        int[] p2 = prompt(10, 2);
        Submitted r1 = h.submit(greedy(p1, 10));
        Submitted r2 = h.submit(greedy(p2, 10));
        h.drain();
        assertArrayEquals(FakeRunner.greedy(p1, 10, true), r1.tokens(0));
        assertArrayEquals(FakeRunner.greedy(p2, 10, true), r2.tokens(0));
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void preemptionRecomputesAndGivesTheSameTokens() {
        // 12 blocks of 4 tokens, three sequences growing to 8 + 24 tokens (8 blocks each): they cannot all fit.
        Harness h = new Harness(config(3, 64, 4, 12));
        List<int[]> prompts = new ArrayList<>();
        List<Submitted> all = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            prompts.add(prompt(8, 10 + i));
            all.add(h.submit(greedy(prompts.get(i), 24)));
        }
        h.drain();
        assertTrue(h.metrics.preemptions() > 0, "the pool is too small for all three: someone was preempted");
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(FakeRunner.greedy(prompts.get(i), 24, true), all.get(i).tokens(0), "request " + i);
            assertEquals(FinishReason.LENGTH, all.get(i).reason(0));
        }
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void cancellingWhileQueuedFreesItsPlaceAndHoldsNothing() {
        Harness h = new Harness(config(1, 64, 4, 64));
        Submitted running = h.submit(greedy(prompt(4, 1), 6));
        Submitted queued = h.submit(greedy(prompt(4, 2), 6));
        assertTrue(h.scheduler.step());
        assertEquals(1, h.scheduler.waitingCount());
        queued.handle().cancel();
        h.drain();
        assertEquals(FinishReason.CANCELLED, queued.reason(0));
        assertEquals(0, queued.tokens(0).length);
        assertEquals(FinishReason.LENGTH, running.reason(0));
        assertEquals(0, h.blocksHeld());
        assertEquals(0, h.unadmitted.requests(), "the cancelled request no longer counts as waiting");
    }

    @Test
    void cancellingDuringPrefillReleasesTheChunksBlocks() {
        Harness h = new Harness(config(2, 4, 4, 64));
        Submitted r = h.submit(greedy(prompt(20, 1), 6));
        assertTrue(h.scheduler.step());
        assertTrue(h.scheduler.step());
        assertTrue(h.blocksHeld() > 0, "two prefill chunks hold blocks");
        assertEquals(0, r.tokens(0).length, "still prefilling");
        r.handle().cancel();
        h.drain();
        assertEquals(FinishReason.CANCELLED, r.reason(0));
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void cancellingDuringDecodeStopsItAndLeavesOthersUntouched() {
        Harness h = new Harness(config(2, 64, 4, 64));
        int[] other = prompt(5, 2);
        Submitted a = h.submit(greedy(prompt(5, 1), 50));
        Submitted b = h.submit(greedy(other, 12));
        for (int i = 0; i < 4; i++) {
            assertTrue(h.scheduler.step());
        }
        assertEquals(4, a.tokens(0).length, "the prefill's token and three decoded");
        a.handle().cancel();
        h.drain();
        assertEquals(FinishReason.CANCELLED, a.reason(0));
        assertEquals(4, a.tokens(0).length, "nothing after the cancel");
        assertArrayEquals(FakeRunner.greedy(other, 12, true), b.tokens(0));
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void parallelChoicesForkThePromptOnceAndGreedyChoicesAgree() {
        Harness h = new Harness(config(4, 64, 4, 64));
        int[] p = prompt(10, 5); // 10 tokens: two full blocks shared, the partial third copied per child
        Submitted r = h.submit(request(p, 8, SamplingParams.GREEDY, 3, List.of()));
        h.drain();
        int[] ref = FakeRunner.greedy(p, 8, true);
        for (int c = 0; c < 3; c++) {
            assertArrayEquals(ref, r.tokens(c), "choice " + c);
        }
        assertEquals(10, h.runner.steps.get(0).rows(), "the prompt is prefilled once for all three choices");
        assertEquals(2, h.runner.copies, "each child copies the partial prompt block");
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void sampledChoicesUseTheirOwnSeeds() {
        SamplingParams warm = new SamplingParams(1.0f, 0, 1f, 0f, 0f, 0f, 1f, 42L);
        int[] p = prompt(6, 9);
        Harness forked = new Harness(config(4, 64, 4, 64));
        Submitted three = forked.submit(request(p, 12, warm, 3, List.of()));
        forked.drain();
        for (int c = 0; c < 3; c++) {
            // Choice c samples as a lone request seeded seed + c would.
            SamplingParams seeded = new SamplingParams(1.0f, 0, 1f, 0f, 0f, 0f, 1f, 42L + c);
            Harness alone = new Harness(config(4, 64, 4, 64));
            Submitted one = alone.submit(request(p, 12, seeded, 1, List.of()));
            alone.drain();
            assertArrayEquals(one.tokens(0), three.tokens(c), "choice " + c);
        }
        assertFalse(Arrays.equals(three.tokens(0), three.tokens(1)), "different seeds sample differently");
    }

    @Test
    void stopStringSpanningTokensEndsTheChoiceBeforeIt() {
        Harness h = new Harness(config(2, 64, 4, 64));
        int[] p = prompt(6, 3);
        int[] ref = FakeRunner.greedy(p, 20, true);
        ByteLevelTokenizer tok = new ByteLevelTokenizer(FakeRunner.VOCAB);
        String full = tok.decode(ref);
        // The text of tokens 5 and 6 together: a stop string no single token contains.
        String before = tok.decode(Arrays.copyOf(ref, 5));
        String stop = tok.decode(Arrays.copyOfRange(ref, 5, 7));
        assertEquals(2, stop.length(), "printable ids decode to one character each");
        int at = full.indexOf(stop);
        Submitted r = h.submit(request(p, 20, SamplingParams.GREEDY, 1, List.of(stop)));
        h.drain();
        assertEquals(FinishReason.STOP, r.reason(0));
        assertEquals(full.substring(0, at), r.sink.text.get(0).toString());
        assertTrue(at <= before.length());
        assertEquals(0, h.blocksHeld());
    }

    /** Proposes the greedy continuation itself, right for the first {@code right} tokens, then wrong. */
    private static final class ScriptedProposer implements TokenProposer {
        final int k;
        final int right;
        int proposed;

        ScriptedProposer(int k, int right) {
            this.k = k;
            this.right = right;
        }

        @Override
        public int maxProposedTokens() {
            return k;
        }

        @Override
        public void propose(ProposalBatch batch) {
            for (int i = 0; i < batch.size(); i++) {
                int max = batch.maxTokens(i);
                int[] next = FakeRunner.greedy(Arrays.copyOf(batch.tokens(i), batch.numTokens(i)), max, true);
                for (int j = 0; j < max; j++) {
                    batch.propose(i, j < right ? next[j] : (next[j] + 1) % FakeRunner.VOCAB);
                }
                proposed += max;
            }
        }

        @Override
        public String describe() {
            return "scripted";
        }
    }

    @Test
    void rightProposalsAreAcceptedSeveralTokensPerStep() {
        ScriptedProposer oracle = new ScriptedProposer(3, 3);
        Harness h = new Harness(config(2, 64, 4, 64), true, oracle);
        int[] p = prompt(7, 4);
        Submitted r = h.submit(greedy(p, 17));
        h.drain();
        assertArrayEquals(FakeRunner.greedy(p, 17, true), r.tokens(0));
        // Prefill gives token 1; each decode step then verifies 3 proposals and adds a 4th token: 1 + 4 * 4 = 17.
        assertEquals(5, h.runner.steps.size());
        assertEquals(4, h.runner.steps.get(1).rows());
        assertEquals(4, h.runner.steps.get(1).logitRows(), "every proposal and the token before it get logits");
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void wrongProposalsAreRejectedAndTheirCacheRolledBack() {
        ScriptedProposer half = new ScriptedProposer(4, 1);
        // Blocks of 2 positions: each rejection returns whole blocks past the accepted length.
        Harness h = new Harness(config(2, 64, 2, 64), true, half);
        int[] p = prompt(5, 6);
        Submitted r = h.submit(greedy(p, 21));
        h.drain();
        assertArrayEquals(FakeRunner.greedy(p, 21, true), r.tokens(0));
        // Prefill gives one token; each decode step accepts one proposal and samples one more: 1 + 10 * 2.
        assertEquals(11, h.runner.steps.size());
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void proposalsLeaveSampledOutputExactlyAsWithout() {
        SamplingParams warm = new SamplingParams(0.8f, 40, 0.95f, 0f, 0.3f, 0.2f, 1.1f, 7L);
        int[] p = prompt(6, 8);
        Harness plain = new Harness(config(2, 64, 4, 64));
        Submitted a = plain.submit(request(p, 30, warm, 2, List.of()));
        plain.drain();
        Harness speculating = new Harness(config(2, 64, 4, 64), true, new ScriptedProposer(3, 2));
        Submitted b = speculating.submit(request(p, 30, warm, 2, List.of()));
        speculating.drain();
        for (int c = 0; c < 2; c++) {
            assertArrayEquals(a.tokens(c), b.tokens(c), "choice " + c);
        }
        assertEquals(0, speculating.blocksHeld());
    }

    @Test
    void proposalsStopAtMaxTokensAndAtTheEndOfGeneration() {
        ScriptedProposer oracle = new ScriptedProposer(5, 5);
        Harness h = new Harness(config(2, 64, 4, 64), true, oracle);
        int[] p = prompt(5, 2);
        Submitted r = h.submit(greedy(p, 3));
        h.drain();
        assertArrayEquals(FakeRunner.greedy(p, 3, true), r.tokens(0), "never more than max_tokens");
        assertEquals(FinishReason.LENGTH, r.reason(0));
        assertEquals(0, h.blocksHeld());
    }

    /** A cost table of {@code fixed + perRow * rows} nanoseconds, rows 1 to 64. */
    private static StepCosts costs(double fixed, double perRow) {
        int[] rows = new int[64];
        double[] nanos = new double[64];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i + 1;
            nanos[i] = fixed + perRow * (i + 1);
        }
        return new StepCosts(rows, nanos);
    }

    /** A perfect proposer of 3 tokens, planned by {@code target}'s costs, serving one greedy request of 17 tokens. */
    private record OracleRun(ScriptedProposer oracle, Harness h) {
        static OracleRun byCost(StepCosts target) {
            ScriptedProposer oracle = new ScriptedProposer(3, 3);
            Harness h = new Harness(config(2, 64, 4, 64), true, Speculation.byCost(oracle, target, StepCosts.FREE));
            int[] p = prompt(7, 4);
            Submitted r = h.submit(greedy(p, 17));
            h.drain();
            assertArrayEquals(FakeRunner.greedy(p, 17, true), r.tokens(0));
            assertEquals(0, h.blocksHeld());
            return new OracleRun(oracle, h);
        }
    }

    @Test
    void byCostFreeRowsAreProposedAsTheFixedRuleDoes() {
        OracleRun run = OracleRun.byCost(costs(100, 0));
        assertEquals(5, run.h().runner.steps.size(), "prefill, then 4 steps of 3 accepted proposals and one more token");
    }

    @Test
    void byCostRowsAsDearAsStepsAreNeverProposed() {
        OracleRun run = OracleRun.byCost(costs(0, 100));
        assertEquals(0, run.oracle().proposed, "perfect proposals at best tie the plain step: the proposer is not asked");
        assertEquals(17, run.h().runner.steps.size());
    }

    @Test
    void byCostFailingProposalsStopAndAreProbedEverySixteenSteps() {
        ScriptedProposer wrong = new ScriptedProposer(5, 0);
        Harness h = new Harness(new EngineConfig(2, 64, 64, 4, 64, 256), true,
                Speculation.byCost(wrong, costs(1000, 100), StepCosts.FREE));
        int[] p = prompt(5, 3);
        Submitted r = h.submit(greedy(p, 120));
        h.drain();
        assertArrayEquals(FakeRunner.greedy(p, 120, true), r.tokens(0));
        List<Integer> verifying = new ArrayList<>();
        for (int i = 1; i < h.runner.steps.size(); i++) {
            if (h.runner.steps.get(i).rows() > 1) {
                verifying.add(i);
            }
        }
        // Hopeful at first (5 proposals); then fewer as the estimate falls step by step (0.43: two, 0.24 and 0.15:
        // one each, on 1 000 + 100 per row), then none (0.10: 1.10 tokens for 1 200 against 1 for 1 100).
        assertEquals(List.of(1, 2, 3, 4), verifying.subList(0, 4));
        assertEquals(6, h.runner.steps.get(1).rows());
        assertEquals(3, h.runner.steps.get(2).rows());
        for (int v = 2; v < verifying.size(); v++) {
            assertEquals(2, h.runner.steps.get(verifying.get(v)).rows(), "one proposal, then probes of one");
            if (v >= 4) {
                assertEquals(Speculation.PROBE_INTERVAL, verifying.get(v) - verifying.get(v - 1), "steps " + verifying);
            }
        }
        assertTrue(verifying.size() >= 6, "probes go on: " + verifying);
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void measuredCostsComeFromProbeStepsThatLeaveNoTrace() {
        ScriptedProposer oracle = new ScriptedProposer(3, 2);
        Harness h = new Harness(config(2, 64, 4, 64), true, Speculation.of(oracle));
        int probeSteps = h.runner.steps.size();
        assertTrue(probeSteps > 1, "the probe timed steps through the runner before any request");
        int[] p = prompt(9, 5);
        Submitted r = h.submit(greedy(p, 40));
        h.drain();
        // The fake checks that every position read was written by its own sequence, not left by the probe.
        assertArrayEquals(FakeRunner.greedy(p, 40, true), r.tokens(0));
        assertEquals(0, h.blocksHeld());
    }

    @Test
    void aRunnerFailureFailsEveryRequestAndFreesEverything() {
        Harness h = new Harness(config(2, 64, 4, 64));
        Submitted a = h.submit(greedy(prompt(5, 1), 10));
        Submitted b = h.submit(greedy(prompt(5, 2), 10));
        assertTrue(h.scheduler.step());
        h.runner.failNext = "device lost";
        assertThrows(IllegalStateException.class, h.scheduler::step);
        h.scheduler.failAll("internal error: device lost");
        assertTrue(a.sink.done.isCompletedExceptionally());
        assertTrue(b.sink.done.isCompletedExceptionally());
        assertTrue(h.scheduler.idle());
        assertEquals(0, h.blocksHeld());
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /** Records a request's calls as text: "t" per token, "f" per finish, "e" per error, "|" per step end. */
    private static class CallLog extends CollectingSink {
        final StringBuilder calls = new StringBuilder();

        CallLog(int n) {
            super(n);
        }

        @Override
        public synchronized void onToken(TokenEvent e) {
            super.onToken(e);
            calls.append('t');
        }

        @Override
        public synchronized void onFinish(int choice, FinishReason reason, String tail, int prompt, int completion) {
            super.onFinish(choice, reason, tail, prompt, completion);
            calls.append('f');
        }

        @Override
        public void onStepEnd() {
            calls.append('|');
        }
    }

    @Test
    void eachSinkHearsOfTheEndOfEveryStepThatCalledItOnceAfterItsCalls() {
        Harness h = new Harness(config(4, 64, 4, 64));
        CallLog twoChoices = new CallLog(2);
        CallLog single = new CallLog(1);
        CallLog later = new CallLog(1);
        ActiveRequest a = new ActiveRequest(request(prompt(6, 1), 3, SamplingParams.GREEDY, 2, List.of()), twoChoices,
                new RequestHandle(), System.nanoTime(), Long.MAX_VALUE);
        ActiveRequest b = new ActiveRequest(greedy(prompt(5, 2), 2), single, new RequestHandle(), System.nanoTime(),
                Long.MAX_VALUE);
        for (ActiveRequest r : List.of(a, b)) {
            assertNull(h.unadmitted.tryAdd(r, Integer.MAX_VALUE, Long.MAX_VALUE));
            h.scheduler.add(r);
        }
        StringBuilder steps = new StringBuilder();
        for (int step = 0; h.scheduler.step(); step++) {
            if (step == 1) {
                ActiveRequest c = new ActiveRequest(greedy(prompt(4, 3), 1), later, new RequestHandle(),
                        System.nanoTime(), Long.MAX_VALUE);
                assertNull(h.unadmitted.tryAdd(c, Integer.MAX_VALUE, Long.MAX_VALUE));
                h.scheduler.add(c);
            }
            h.scheduler.endStep();
            steps.append('.');
            assertTrue(steps.length() < 100);
        }
        h.scheduler.endStep(); // a step without calls tells nobody
        // Two choices a step (the second forks from the first's prefill), three tokens each, each finishing after its last.
        assertEquals("tt|tt|tftf|", twoChoices.calls.toString());
        assertEquals("t|tf|", single.calls.toString());
        assertEquals("tf|", later.calls.toString());
    }

    @Test
    void aSinkThatThrowsAtTheEndOfAStepDoesNotKeepTheOthersFromHearingOfIt() {
        Harness h = new Harness(config(4, 64, 4, 64));
        CallLog throwing = new CallLog(1) {
            @Override
            public void onStepEnd() {
                super.onStepEnd();
                throw new IllegalStateException("its event loop is gone");
            }
        };
        CallLog fine = new CallLog(1);
        for (CallLog sink : List.of(throwing, fine)) {
            ActiveRequest r = new ActiveRequest(greedy(prompt(5, 4), 2), sink, new RequestHandle(), System.nanoTime(),
                    Long.MAX_VALUE);
            assertNull(h.unadmitted.tryAdd(r, Integer.MAX_VALUE, Long.MAX_VALUE));
            h.scheduler.add(r);
        }
        while (h.scheduler.step()) {
            h.scheduler.endStep();
        }
        assertEquals("t|tf|", throwing.calls.toString());
        assertEquals("t|tf|", fine.calls.toString());
    }
}
