package dev.continuum.engine;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.cuda.CudaModelRunner;
import dev.continuum.cuda.EmulatedCudaDevice;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.runner.ModelRunner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.util.ArrayList;
import java.util.List;

/**
 * The engine scenarios with the CUDA runner, through JCuda and the emulated device: batched requests get their solo
 * outputs (a decode token's arithmetic never depends on the batch around it), preemption and recompute, n > 1 forks
 * (the partial block copied on the device), cancellation. The engine steps on its own thread, so every scenario
 * also proves the runner makes its context current there (the emulated driver refuses memory calls otherwise).
 */
@IntegrationTest
class EngineOnEmulatedCudaTest extends EngineScenarios {
    private static LoadedModel model;
    private static final List<ModelRunner> runners = new ArrayList<>();

    @BeforeAll
    static void load() {
        EmulatedCudaDevice.install();
        model = ModelLoader.load(SharedTestData.require("models/stories260K.gguf").toString(), null);
    }

    @AfterAll
    static void close() {
        runners.forEach(ModelRunner::close);
        if (model != null) {
            model.close();
        }
    }

    @Override
    protected LoadedModel model() {
        return model;
    }

    /** Shorter completions than on the CPU (8 to 38 tokens): enough for batches of 16 to form and drain. */
    @Override
    protected int batchTokens(int i) {
        return 8 + 2 * i;
    }

    /** 48 tokens: six sequences need 24 blocks, the pool has 16. */
    @Override
    protected int preemptionTokens() {
        return 48;
    }

    @Override
    protected ModelRunner runner() {
        ModelRunner r = new CudaModelRunner(model.config(), model.weights());
        runners.add(r);
        return r;
    }
}
