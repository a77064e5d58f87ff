package dev.continuum.speculative;

import dev.continuum.SharedTestData;
import dev.continuum.loader.LoadQuantization;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.tensor.ComputePool;

/**
 * What the speculative tests on real weights share: stories260K as a target, the same file quantized to int4:32 at
 * load (a draft that mostly agrees with it), and a two-thread pool for their runners.
 */
final class StoriesTarget implements AutoCloseable {
    final LoadedModel model;
    final LoadedModel int4;
    final ComputePool pool;

    StoriesTarget() {
        String path = SharedTestData.require("models/stories260K.gguf").toString();
        model = ModelLoader.load(path, null, null);
        int4 = ModelLoader.load(path, null, LoadQuantization.parse("int4:32"));
        pool = new ComputePool(2);
    }

    @Override
    public void close() {
        pool.close();
        model.close();
        int4.close();
    }
}
