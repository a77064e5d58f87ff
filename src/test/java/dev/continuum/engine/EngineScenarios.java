package dev.continuum.engine;

import dev.continuum.loader.LoadedModel;
import dev.continuum.runner.ModelRunner;
import dev.continuum.sampling.SamplingParams;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The continuous-batching engine's promises on a real model, without HTTP, for any runner: batched requests get
 * their solo outputs, preemption and recompute keep outputs exact, n > 1 forks agree, stop strings, cancellation.
 * {@code InferenceEngineTest} runs them on the CPU, {@code EngineOnEmulatedCudaTest} on the CUDA runner.
 */
public abstract class EngineScenarios {
    /** The model every scenario runs (stories260K), loaded once by the subclass. */
    protected abstract LoadedModel model();

    /** A fresh runner over {@link #model()}; each engine owns (and closes) its own. */
    protected abstract ModelRunner runner();

    /**
     * Tokens generated per request in the batching scenario for prompt {@code i} (16 prompts), and in the
     * preemption scenario ({@link #preemptionTokens}): long on the CPU, shorter where a runner is slow (the emulated
     * GPU), as long as they still prove the point (batches form, blocks run out).
     */
    protected int batchTokens(int i) {
        return 20 + 7 * i;
    }

    /** Tokens per request in the preemption scenario; the KV pool is sized from it to hold two thirds of the six. */
    protected int preemptionTokens() {
        return 150;
    }

    private int preemptionBlocks() {
        int perSequence = (8 + preemptionTokens() + 15) / 16; // a prompt of up to 8 tokens, then the completion
        return Math.max(perSequence + 1, 6 * perSequence * 2 / 3);
    }

    protected InferenceEngine engine(int maxSeqs, int budget, int blocks) {
        return new InferenceEngine(runner(), model().tokenizer(), new EngineConfig(maxSeqs, budget, 64, 16, blocks, 512),
                new SimpleMeterRegistry());
    }

    protected int[] prompt(String text) {
        int[] body = model().tokenizer().encode(text, false);
        int[] p = new int[body.length + 1];
        p[0] = model().tokenizer().bosId();
        System.arraycopy(body, 0, p, 1, body.length);
        return p;
    }

    protected static GenerationRequest greedy(String id, int[] prompt, int maxTokens, int n, List<String> stop) {
        return new GenerationRequest(id, prompt, maxTokens, SamplingParams.GREEDY, stop, false, n, -1);
    }

    protected static CollectingSink run(InferenceEngine e, GenerationRequest r) throws Exception {
        CollectingSink sink = new CollectingSink(r.n());
        e.submit(r, sink);
        return sink.done.get(60, TimeUnit.SECONDS);
    }

    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Lily and Ben", "One day",
            "The sun was", "Tom had a big", "She saw a cat", "The bird sang", "A boy named", "In the park",
            "Mom said", "The tree was tall", "He wanted to", "They played with", "The car went", "It was a sunny"};

    @Test
    void concurrentRequestsGetTheirSoloOutputsAndAreBatched() throws Exception {
        List<List<Integer>> solo = new ArrayList<>();
        try (InferenceEngine e = engine(1, 64, 256)) {
            for (int i = 0; i < PROMPTS.length; i++) {
                solo.add(run(e, greedy("solo" + i, prompt(PROMPTS[i]), batchTokens(i), 1, List.of())).tokens.get(0));
            }
        }
        try (InferenceEngine e = engine(16, 64, 256)) {
            List<CollectingSink> sinks = new ArrayList<>();
            for (int i = 0; i < PROMPTS.length; i++) {
                CollectingSink s = new CollectingSink(1);
                e.submit(greedy("b" + i, prompt(PROMPTS[i]), batchTokens(i), 1, List.of()), s);
                sinks.add(s);
            }
            for (int i = 0; i < PROMPTS.length; i++) {
                assertEquals(solo.get(i), sinks.get(i).done.get(60, TimeUnit.SECONDS).tokens.get(0), PROMPTS[i]);
            }
            assertTrue(e.metrics().peakBatch() > 4, "batched: peak batch " + e.metrics().peakBatch());
            assertEquals(0.0, e.kvUsage(), "all blocks returned");
        }
    }

    @Test
    void preemptionUnderKvPressureKeepsOutputsExact() throws Exception {
        List<List<Integer>> solo = new ArrayList<>();
        try (InferenceEngine e = engine(1, 64, 64)) {
            for (int i = 0; i < 6; i++) {
                solo.add(run(e, greedy("s" + i, prompt(PROMPTS[i]), preemptionTokens(), 1, List.of())).tokens.get(0));
            }
        }
        // Two thirds of the blocks six whole sequences need (40 blocks x 16 tokens = 640 tokens for 6 sequences of
        // ~155 at 150 tokens): someone must be preempted.
        var registry = new SimpleMeterRegistry();
        try (InferenceEngine e = new InferenceEngine(runner(), model().tokenizer(), new EngineConfig(8, 64, 64, 16, preemptionBlocks(),
                Math.min(512, 16 * preemptionBlocks())), registry)) {
            List<CollectingSink> sinks = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                CollectingSink s = new CollectingSink(1);
                e.submit(greedy("p" + i, prompt(PROMPTS[i]), preemptionTokens(), 1, List.of()), s);
                sinks.add(s);
            }
            for (int i = 0; i < 6; i++) {
                assertEquals(solo.get(i), sinks.get(i).done.get(60, TimeUnit.SECONDS).tokens.get(0));
            }
            assertTrue(registry.get("continuum.preemptions").counter().count() > 0, "preempted at least once");
            assertEquals(0.0, e.kvUsage());
        }
    }

    @Test
    void parallelChoicesShareThePromptAndGreedyChoicesAgree() throws Exception {
        try (InferenceEngine e = engine(8, 64, 128)) {
            List<Integer> one = run(e, greedy("one", prompt("Once upon a time"), 30, 1, List.of())).tokens.get(0);
            CollectingSink three = run(e, greedy("three", prompt("Once upon a time"), 30, 3, List.of()));
            for (int c = 0; c < 3; c++) {
                assertEquals(one, three.tokens.get(c), "choice " + c);
                assertEquals(FinishReason.LENGTH, three.reasons.get(c));
            }
            SamplingParams hot = new SamplingParams(1.0f, 0, 1f, 0f, 0f, 0f, 1f, 1234);
            CollectingSink sampled = run(e, new GenerationRequest("hot", prompt("Once upon a time"), 30, hot,
                    List.of(), false, 2, -1));
            assertTrue(!sampled.tokens.get(0).equals(sampled.tokens.get(1)), "choices use different seeds");
            assertEquals(0.0, e.kvUsage());
        }
    }

    @Test
    void stopStringsEndTheChoiceAndAreNotIncluded() throws Exception {
        try (InferenceEngine e = engine(4, 64, 128)) {
            String full = run(e, greedy("full", prompt("Once upon a time"), 40, 1, List.of())).text.get(0).toString();
            int at = full.indexOf("Lily");
            assertTrue(at > 0, full);
            CollectingSink stopped = run(e, greedy("stop", prompt("Once upon a time"), 40, 1, List.of("Lily", "zzz")));
            assertEquals(full.substring(0, at), stopped.text.get(0).toString());
            assertEquals(FinishReason.STOP, stopped.reasons.get(0));
        }
    }

    @Test
    void cancellationFreesTheBlocksAndAFullQueueRefuses() throws Exception {
        try (InferenceEngine e = new InferenceEngine(runner(), model().tokenizer(), new EngineConfig(2, 64, 2, 16, 128, 512),
                new SimpleMeterRegistry())) {
            CollectingSink sink = new CollectingSink(1);
            RequestHandle h = e.submit(new GenerationRequest("c", prompt("Once"), 400, SamplingParams.GREEDY,
                    List.of(), true, 1, -1), sink);
            while (sink.tokens.get(0).size() < 5) {
                Thread.sleep(1);
            }
            h.cancel();
            assertEquals(FinishReason.CANCELLED, sink.done.get(10, TimeUnit.SECONDS).reasons.get(0));
            long deadline = System.currentTimeMillis() + 5000;
            while (e.kvUsage() > 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(0.0, e.kvUsage());
        }
        // max-waiting 1 and the engine busy: the second queued request is refused.
        try (InferenceEngine e = new InferenceEngine(runner(), model().tokenizer(), new EngineConfig(1, 64, 1, 16, 128, 512),
                new SimpleMeterRegistry())) {
            List<RequestHandle> handles = new ArrayList<>();
            assertThrows(QueueFullException.class, () -> {
                for (int i = 0; i < 10; i++) {
                    handles.add(e.submit(new GenerationRequest("q" + i, prompt("Once"), 300, SamplingParams.GREEDY,
                            List.of(), true, 1, -1), new CollectingSink(1)));
                }
            });
            handles.forEach(RequestHandle::cancel);
        }
    }
}
