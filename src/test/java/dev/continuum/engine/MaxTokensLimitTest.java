package dev.continuum.engine;

import dev.continuum.sampling.SamplingParams;
import dev.continuum.tokenizer.ByteLevelTokenizer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * max_tokens at the engine's edge: a request for 0 tokens is refused with a message saying why (every choice
 * samples a token after its prompt; the HTTP API and {@code generate} answer 0 themselves), and the smallest limit
 * the engine takes, 1, gives exactly one token and finish reason length. On the fake runner.
 */
class MaxTokensLimitTest {
    private static final int[] PROMPT = {1, 40, 41, 42};

    private static GenerationRequest request(int maxTokens) {
        return new GenerationRequest("r", PROMPT, maxTokens, SamplingParams.GREEDY, List.of(), false, 2, -1);
    }

    @Test
    void zeroTokensIsRefusedBeforeItReachesTheEngine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> request(0));
        assertEquals("max_tokens must be at least 1, got 0 (a request for 0 tokens is answered without the engine:"
                + " no tokens, finish reason length)", e.getMessage());
        assertEquals("max_tokens must be at least 1, got -1 (a request for 0 tokens is answered without the engine:"
                + " no tokens, finish reason length)",
                assertThrows(IllegalArgumentException.class, () -> request(-1)).getMessage());
    }

    @Test
    void oneTokenIsTheSmallestLimitAndEndsWithLength() throws Exception {
        try (InferenceEngine engine = new InferenceEngine(new FakeRunner(512, true),
                new ByteLevelTokenizer(FakeRunner.VOCAB), new EngineConfig(4, 64, 8, 16, 64, 512),
                new SimpleMeterRegistry())) {
            CollectingSink sink = new CollectingSink(2);
            engine.submit(request(1), sink);
            sink.done.get(10, TimeUnit.SECONDS);
            int first = FakeRunner.greedy(PROMPT, 1, true)[0];
            assertEquals(List.of(List.of(first), List.of(first)), sink.tokens, "both choices, one greedy token each");
            assertEquals(List.of(FinishReason.LENGTH, FinishReason.LENGTH), sink.reasons);
        }
    }
}
