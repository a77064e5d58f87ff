package dev.continuum.server;

import dev.continuum.backend.Backend;
import dev.continuum.backend.OpenedRunner;
import dev.continuum.backend.RunnerFactory;
import dev.continuum.engine.EngineConfig;
import dev.continuum.engine.InferenceEngine;
import dev.continuum.engine.KvPoolSizing;
import dev.continuum.engine.Speculation;
import dev.continuum.engine.TokenProposer;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.ModelShape;
import dev.continuum.runner.WarmupReport;
import dev.continuum.runner.RunnerBackend;
import dev.continuum.speculative.SpeculativeOptions;
import io.micrometer.core.instrument.Gauge;
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
    private volatile OpenedRunner opened;
    private volatile InferenceEngine engine;
    /** The engine's proposer (it owns a draft model's runner); closed after the engine. */
    private volatile TokenProposer proposer;
    private volatile RunnerBackend backend;
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
        if (proposer != null) {
            proposer.close();
        }
        if (opened != null) {
            opened.close();
        }
        if (model != null) {
            model.close();
        }
    }

    private void load() {
        long start = System.nanoTime();
        // What was opened so far, closed again (engine first) when a later step fails.
        LoadedModel m = null;
        OpenedRunner o = null;
        Speculation speculation = Speculation.OFF;
        InferenceEngine e = null;
        try {
            Backend choice = Backend.parse(config.backend());
            String spec = config.model();
            m = ModelLoader.load(spec, config.tokenizer().map(Path::of).orElse(null),
                    dev.continuum.loader.LoadQuantization.parse(config.quantize().orElse(null)));
            LOG.infof("Loaded %s in %.2f s", m.description(), (System.nanoTime() - start) / 1e9);
            if (spec.startsWith("dummy:")) {
                LOG.warnf("*** The served model %s has RANDOM WEIGHTS: its output is noise. Set CONTINUUM_MODEL to a"
                        + " GGUF file to serve a real model. ***", spec);
            }
            o = RunnerFactory.open(m, choice, config.threads(), LOG::warn);
            ModelRunner runner = o.runner();
            LOG.infof("Runner (backend %s, asked %s): %s", runner.backend().name(), choice.text(), runner.describe());
            warmUp(runner);
            EngineConfig ec = engineConfig(runner.shape());
            LOG.infof("Engine: %s (%.0f MiB of KV cache)", ec,
                    ec.kvBlocks() * (double) runner.shape().kvBytesPerBlock(ec.blockSize()) / (1 << 20));
            speculation = openSpeculation(m, choice);
            e = new InferenceEngine(runner, m.tokenizer(), ec, registry, speculation);
            RunnerBackend b = runner.backend();
            Gauge.builder("continuum.backend.info", () -> 1).tag("backend", b.name())
                    .tag("device", b.device()).description("The backend and device serving the model (always 1)")
                    .strongReference(true).register(registry);
            registerEngineHealth(e);
            // Only now the host owns them (onStop closes them); until here a failure closes them below.
            servedName = config.servedModelName().orElse(m.name());
            backend = b;
            model = m;
            opened = o;
            proposer = speculation.proposer();
            engine = e;
            state = State.READY;
            LOG.infof("Ready after %.2f s, serving '%s'", (System.nanoTime() - start) / 1e9, servedName);
        } catch (RuntimeException | OutOfMemoryError failed) {
            closeQuietly(e, failed);
            closeQuietly(speculation.proposer(), failed);
            closeQuietly(o, failed);
            closeQuietly(m, failed);
            reportFailure(failed);
        }
    }

    /** Records why loading failed, for /health and the log. */
    private void reportFailure(Throwable e) {
        // /health reports this: the loader's ModelFormatException messages name the file and the problem;
        // anything else gets its type and the model, so no bare "-133268040" or "Java heap space" stands alone.
        if (e instanceof dev.continuum.format.ModelFormatException && e.getMessage() != null) {
            failure = e.getMessage();
        } else if (e instanceof SpeculationFailure) {
            failure = "failed to start speculative decoding for model '" + config.model() + "': "
                    + e.getMessage();
        } else if (e instanceof OutOfMemoryError) {
            failure = "ran out of memory starting model '" + config.model() + "' (" + e.getMessage()
                    + ", heap limit " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB)";
        } else {
            failure = "failed to start model '" + config.model() + "': " + e;
        }
        state = State.FAILED;
        LOG.errorf(e, "Failed to load model '%s': %s", config.model(), e.getMessage());
    }

    /**
     * The configured proposer for {@code target}, or {@link Speculation#OFF}: invalid options, and a draft that
     * does not load or does not share the target's vocabulary, fail the load naming why (in /health).
     */
    private Speculation openSpeculation(LoadedModel target, Backend choice) {
        Speculation s;
        try {
            SpeculativeOptions options = new SpeculativeOptions(config.speculativeModel().orElse(null),
                    config.speculativeNgram(), config.numSpeculativeTokens(), config.speculativeDisableAbove().orElse(Speculation.BY_COST));
            s = options.open(target, config.tokenizer().map(Path::of).orElse(null), choice, config.threads(),
                    config.warmupTokens(), LOG::warn);
        } catch (RuntimeException e) {
            // The options and the vocabulary check explain themselves; anything else keeps its type.
            boolean explained = e instanceof IllegalArgumentException
                    || e instanceof dev.continuum.format.ModelFormatException;
            throw new SpeculationFailure(explained && e.getMessage() != null ? e.getMessage() : e.toString(), e);
        }
        if (s.enabled()) {
            LOG.infof("Speculative decoding: %s, %s", s.proposer().describe(), s.describeRule());
        }
        return s;
    }

    /** Why speculative decoding could not start; /health shows its message. */
    private static final class SpeculationFailure extends RuntimeException {
        SpeculationFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static void closeQuietly(AutoCloseable c, Throwable failure) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception suppressed) {
            failure.addSuppressed(suppressed);
        }
    }

    /** The heartbeat as metrics, so a hung engine shows on a dashboard as well as in readiness. */
    private void registerEngineHealth(InferenceEngine e) {
        long bound = config.engineStallTimeout().toNanos();
        Gauge.builder("continuum.engine.stalled", () -> e.progress().stalled(bound) ? 1 : 0)
                .description("1 while no engine step finished within continuum.engine-stall-timeout (readiness is"
                        + " then false)").strongReference(true).register(registry);
        Gauge.builder("continuum.engine.since.last.step", () -> e.progress().nanosSinceLastStep() / 1e9)
                .baseUnit("seconds").description("Time since the engine loop last finished a step (it steps about"
                        + " every 100 ms when idle)").strongReference(true).register(registry);
    }

    private EngineConfig engineConfig(ModelShape shape) {
        int maxModelLen = Math.min(shape.contextLength(), config.maxModelLen().orElse(Integer.MAX_VALUE));
        int blocks = KvPoolSizing.blocks(shape, config.kvBlockSize(), maxModelLen, config.maxNumSeqs(),
                config.kvCacheBytes(), config.kvCacheBlocks().map(OptionalInt::of).orElse(OptionalInt.empty()));
        return new EngineConfig(config.maxNumSeqs(), config.maxNumBatchedTokens(), config.maxWaiting(),
                config.kvBlockSize(), blocks, maxModelLen, config.maxWaitingTokens(), config.requestTimeout());
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

    /** True when the engine runs but no step finished within {@code continuum.engine-stall-timeout}. */
    public boolean engineStalled() {
        InferenceEngine e = engine;
        return e != null && e.progress().stalled(config.engineStallTimeout().toNanos());
    }

    /** False only when the engine thread has died; true while loading (or after a failed load: no engine). */
    public boolean engineAlive() {
        InferenceEngine e = engine;
        return e == null || e.isAlive();
    }

    public InferenceEngine engine() {
        return engine;
    }

    /** The backend and device serving the model; only valid once {@link #state()} is READY. */
    public RunnerBackend backend() {
        return backend;
    }

    public String servedName() {
        return servedName;
    }

    public ContinuumConfig config() {
        return config;
    }
}
