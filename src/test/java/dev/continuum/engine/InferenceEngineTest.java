package dev.continuum.engine;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.model.CpuModelRunner;
import dev.continuum.runner.ModelRunner;
import dev.continuum.tensor.ComputePool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The engine scenarios on the real stories260K model, run by the CPU runner. */
@IntegrationTest
class InferenceEngineTest extends EngineScenarios {
    private static LoadedModel model;
    private static ComputePool pool;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(SharedTestData.require("models/stories260K.gguf").toString(), null);
        pool = new ComputePool(2);
    }

    @AfterAll
    static void close() {
        if (pool != null) {
            pool.close();
        }
        if (model != null) {
            model.close();
        }
    }

    @Override
    protected LoadedModel model() {
        return model;
    }

    @Override
    protected ModelRunner runner() {
        return new CpuModelRunner(model.config(), model.weights(), pool);
    }
}
