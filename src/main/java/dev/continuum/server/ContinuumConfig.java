package dev.continuum.server;

import dev.continuum.engine.EngineConfig;
import dev.continuum.speculative.SpeculativeOptions;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Server configuration under {@code continuum.*}; each property can also be set by environment variable
 * ({@code continuum.max-num-seqs} as {@code CONTINUUM_MAX_NUM_SEQS}, and so on). The README lists them all.
 */
@ConfigMapping(prefix = "continuum")
public interface ContinuumConfig {
    /**
     * Model spec: {@code embedded:NAME} (the default, stories260K, ships in the jar), {@code dummy:NAME[:TYPE]}, a
     * GGUF file, or a llama2.c checkpoint.
     */
    @WithDefault("embedded:stories260K")
    String model();

    /**
     * Load-time quantization of a float model's linear weights: {@code int8}, {@code int4:G} or {@code nf4} (see
     * {@link dev.continuum.loader.LoadQuantization}); absent keeps the file's weights.
     */
    Optional<String> quantize();

    /** Tokenizer file for a llama2.c checkpoint. */
    Optional<String> tokenizer();

    /** The model name clients use; defaults to the model's own name. */
    Optional<String> servedModelName();

    /**
     * Which backend runs the model: {@code auto} (the GPU when the CUDA driver and a device answer, else the CPU with
     * one warning), {@code cpu}, or {@code cuda} (the GPU or a failed load naming why).
     */
    @WithDefault("auto")
    String backend();

    /** Compute threads for the kernels; 0 means one per available core. */
    @WithDefault("0")
    int threads();

    /** Decode steps run at start-up so the JIT has compiled the kernels before the first request. */
    @WithDefault("32")
    int warmupTokens();

    /** Sequences decoding at once (a request with n choices counts n). */
    @WithDefault("32")
    int maxNumSeqs();

    /** Tokens one scheduler step may process: bounds the prefill chunk and so everyone's inter-token latency. */
    @WithDefault("256")
    int maxNumBatchedTokens();

    /** Requests queued before new ones get 429. */
    @WithDefault("256")
    int maxWaiting();

    /**
     * Work queued, in tokens (prompt + n x max_tokens of each request not yet scheduled), before new requests get
     * 429 with a Retry-After estimated from that work and the engine's throughput.
     */
    @WithDefault(EngineConfig.DEFAULT_MAX_WAITING_TOKENS_TEXT)
    long maxWaitingTokens();

    /** The longest a request may run, and the largest {@code timeout} a request may ask for. */
    @WithDefault(EngineConfig.DEFAULT_REQUEST_TIMEOUT_TEXT)
    Duration requestTimeout();

    /** Largest request body, the same on every route; a larger one gets 413 in OpenAI's error shape. */
    @WithDefault("16777216")
    long maxRequestBytes();

    /** Longest prompt + completion; defaults to the model's context length. */
    Optional<Integer> maxModelLen();

    /** Largest {@code n} accepted. */
    @WithDefault("16")
    int maxN();

    /**
     * Speculative decoding with a draft model: its spec (as {@link #model()}), sharing the served model's
     * vocabulary; it proposes tokens the served model verifies. Excludes speculative-ngram.
     */
    Optional<String> speculativeModel();

    /** Speculative decoding by prompt lookup: propose what followed the last N tokens earlier on; 0 is off. */
    @WithDefault("0")
    int speculativeNgram();

    /** Tokens proposed per sequence per step when speculating. */
    @WithDefault(SpeculativeOptions.DEFAULT_NUM_TOKENS_TEXT)
    int numSpeculativeTokens();

    /**
     * The fixed speculation rule: every sequence proposes while at most this many decode, none above. Not set:
     * each step proposes where the step costs measured at start say proposals pay.
     */
    Optional<Integer> speculativeDisableAbove();

    /** Tokens per KV-cache block. */
    @WithDefault(EngineConfig.DEFAULT_BLOCK_SIZE_TEXT)
    int kvBlockSize();

    /** KV-cache pool size in bytes (keys and values of all layers, in the runner's storage); ignored when kv-cache-blocks is set. */
    @WithDefault("1073741824")
    long kvCacheBytes();

    /** KV-cache pool size in blocks, overriding kv-cache-bytes. */
    Optional<Integer> kvCacheBlocks();

    /**
     * On SIGTERM: how long requests in flight may run on while new ones get 503; those still running then end
     * with an error event (streams: and {@code [DONE]}). Keep it below the pod's terminationGracePeriodSeconds.
     */
    @WithDefault("30s")
    Duration shutdownGrace();

    /** Readiness turns false (and {@code continuum_engine_stalled} 1) when no engine step finished for this long. */
    @WithDefault("30s")
    Duration engineStallTimeout();

    /** API keys (comma-separated); when set (or api-key-file), every route but the health probes needs one. */
    Optional<List<String>> apiKey();

    /** A file of API keys, one per line (blank lines and {@code #} comments skipped), added to api-key. */
    Optional<String> apiKeyFile();

    /** Whether {@code /metrics} needs an API key too (when keys are set). */
    @WithDefault("false")
    boolean metricsRequireKey();

    /** Origins a browser may call the API from (CORS), comma-separated, or {@code *}; none by default. */
    Optional<List<String>> corsOrigins();
}
