package dev.continuum.server;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Optional;

/**
 * Server configuration under {@code continuum.*}; each property can also be set by environment variable
 * ({@code continuum.model} as {@code CONTINUUM_MODEL}, and so on).
 */
@ConfigMapping(prefix = "continuum")
public interface ContinuumConfig {
    /** Model spec: {@code dummy:NAME[:TYPE]}, a GGUF file, or a llama2.c checkpoint. */
    @WithDefault("dummy:15m")
    String model();

    /** Tokenizer file for a llama2.c checkpoint. */
    Optional<String> tokenizer();

    /** Compute threads for the kernels; 0 means one per available core. */
    @WithDefault("0")
    int threads();

    /** Decode steps run at start-up so the JIT has compiled the kernels before the first request. */
    @WithDefault("32")
    int warmupTokens();
}
