package dev.continuum.server;

import dev.continuum.engine.EngineConfig;
import dev.continuum.engine.InferenceEngine;
import dev.continuum.engine.KvPoolSizing;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.model.CpuModelRunner;
import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.ModelShape;
import dev.continuum.runner.WarmupReport;
import dev.continuum.tensor.ComputePool;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Loads the configured model in the background at start-up, warms the kernels up, starts the inference engine,
 * and only then reports ready; until then (or after a failed load) the API answers 503.
 */
@ApplicationScoped
public class ModelHost {
    private static final Logger LOG = Logger.getLogger(ModelHost.class);

    /** Where loading stands. */
    public enum State { LOADING, READY, FAILED }

    private final ContinuumConfig config;
    private final MeterRegistry registry;
    private volatile State state = State.LOADING;
    private volatile String failure;
    private volatile LoadedModel model;
    private volatile ComputePool pool;
    private volatile InferenceEngine engine;
    private volatile ModelRunner runner;
    private volatile String servedName;

    public ModelHost(ContinuumConfig config, MeterRegistry registry) {
        this.config = config;
        this.registry = registry;
    }

    void onStart(@Observes StartupEvent event) {
        Thread loader = new Thread(this::load, "continuum-model-loader");
        loader.setDaemon(true);
        loader.start();
    }

    void onStop(@Observes ShutdownEvent event) {
        if (engine != null) {
            engine.close();
        }
        if (runner != null) {
            runner.close();
        }
        if (pool != null) {
            pool.close();
        }
        if (model != null) {
            model.close();
        }
    }

    private void load() {
        long start = System.nanoTime();
        try {
            String spec = config.model();
            LoadedModel m = ModelLoader.load(spec, config.tokenizer().map(Path::of).orElse(null));
            LOG.infof("Loaded %s in %.2f s", m.description(), (System.nanoTime() - start) / 1e9);
            if (spec.startsWith("dummy:")) {
                LOG.warnf("*** The served model %s has RANDOM WEIGHTS: its output is noise. Set CONTINUUM_MODEL to a"
                        + " GGUF file to serve a real model. ***", spec);
            }
            ComputePool p = config.threads() > 0 ? new ComputePool(config.threads()) : ComputePool.ofAvailableCores();
            ModelRunner runner = new CpuModelRunner(m.config(), m.weights(), p);
            LOG.infof("Runner: %s", runner.describe());
            warmUp(runner);
            EngineConfig ec = engineConfig(runner.shape());
            LOG.infof("Engine: %s (%.0f MiB of KV cache)", ec,
                    ec.kvBlocks() * (double) runner.shape().kvBytesPerBlock(ec.blockSize()) / (1 << 20));
            InferenceEngine e = new InferenceEngine(runner, m.tokenizer(), ec, registry);
            servedName = config.servedModelName().orElse(m.name());
            pool = p;
            model = m;
            this.runner = runner;
            engine = e;
            state = State.READY;
            LOG.infof("Ready after %.2f s, serving '%s'", (System.nanoTime() - start) / 1e9, servedName);
        } catch (RuntimeException | OutOfMemoryError e) {
            failure = e.getMessage() != null ? e.getMessage() : e.toString();
            state = State.FAILED;
            LOG.errorf(e, "Failed to load model '%s': %s", config.model(), e.getMessage());
        }
    }

    private EngineConfig engineConfig(ModelShape shape) {
        int maxModelLen = Math.min(shape.contextLength(), config.maxModelLen().orElse(Integer.MAX_VALUE));
        int blocks = KvPoolSizing.blocks(shape, config.kvBlockSize(), maxModelLen, config.maxNumSeqs(),
                config.kvCacheBytes(), config.kvCacheBlocks().map(OptionalInt::of).orElse(OptionalInt.empty()));
        return new EngineConfig(config.maxNumSeqs(), config.maxNumBatchedTokens(), config.maxWaiting(),
                config.kvBlockSize(), blocks, maxModelLen);
    }

    private void warmUp(ModelRunner runner) {
        if (config.warmupTokens() <= 0) {
            return;
        }
        WarmupReport r = runner.warmUp(config.warmupTokens());
        LOG.infof("Warm-up: %.2f s: %s", r.seconds(), r.detail());
    }

    public State state() {
        return state;
    }

    public String failure() {
        return failure;
    }

    /** The loaded model; only valid once {@link #state()} is READY. */
    public LoadedModel model() {
        return model;
    }

    public InferenceEngine engine() {
        return engine;
    }

    public String servedName() {
        return servedName;
    }

    public ContinuumConfig config() {
        return config;
    }
}
