package dev.continuum.cli;

import dev.continuum.backend.Backend;
import dev.continuum.backend.OpenedRunner;
import dev.continuum.backend.RunnerFactory;
import dev.continuum.engine.Speculation;
import dev.continuum.engine.GenerationStats;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.runner.ForwardingRunner;
import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.speculative.NgramProposer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code generate}'s path through the engine (speculating) reports what the engine did: the tokens it streamed,
 * and a failure as a failure with the engine's message, not as a short success.
 */
class EngineGenerationTest {
    @Test
    void aFailedRequestIsReportedWithTheEnginesMessage() throws Exception {
        try (LoadedModel model = ModelLoader.load("dummy:tiny", null, null);
             OpenedRunner opened = RunnerFactory.open(model, Backend.parse("cpu"), 1, w -> { })) {
            ModelRunner failing = new FailingAfter(opened.runner(), 3);
            EngineGeneration generation = new EngineGeneration(failing, model.tokenizer(),
                    Speculation.of(new NgramProposer(2, 3), 8));
            int[] prompt = model.tokenizer().encode("a b a b a b", false);
            EngineGeneration.GenerationFailedException e = assertThrows(
                    EngineGeneration.GenerationFailedException.class,
                    () -> generation.generate(prompt, 20, SamplingParams.GREEDY, true, text -> { }));
            assertTrue(e.getMessage().contains("the runner broke at step 3"), e.getMessage());

            EngineGeneration working = new EngineGeneration(opened.runner(), model.tokenizer(),
                    Speculation.of(new NgramProposer(2, 3), 8));
            GenerationStats stats = working.generate(prompt, 20, SamplingParams.GREEDY, true, text -> { });
            assertEquals(20, stats.generatedTokens(), "the same runner still serves after the failed request");
            assertEquals("length", stats.stopReason());
        }
    }

    /** A runner whose forward pass throws from its {@code failAt}-th call on. */
    private static final class FailingAfter extends ForwardingRunner {
        private final int failAt;
        private int calls;

        FailingAfter(ModelRunner inner, int failAt) {
            super(inner);
            this.failAt = failAt;
        }

        @Override
        public StepOutput forward(StepBatch batch) {
            if (++calls >= failAt) {
                throw new IllegalStateException("the runner broke at step " + calls);
            }
            return inner.forward(batch);
        }
    }
}
