package dev.continuum.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code serve}: options that map onto configuration properties before Quarkus boots (environment variables
 * such as {@code CONTINUUM_MODEL} work too, as does any {@code -Dkey=value}).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Start the HTTP server (the default).")
final class ServeCommand implements Runnable {
    @Option(names = "--model", description = "Model spec: embedded:stories260K (the default), dummy:NAME[:TYPE], a .gguf file, or a llama2.c .bin")
    String model;

    @Option(names = "--quantize", description = "Quantize a float model's weights at load: "
            + dev.continuum.loader.LoadQuantization.VALUES + " (property continuum.quantize)")
    String quantize;

    @Option(names = "--tokenizer", description = "Tokenizer file for a llama2.c checkpoint")
    String tokenizer;

    @Option(names = "--backend", description = "auto (the GPU if CUDA answers, else the CPU), cpu or cuda (default auto)")
    String backend;

    @picocli.CommandLine.Mixin
    SpeculativeFlags speculative = new SpeculativeFlags();

    @Option(names = "--port", description = "HTTP port (default 8080)")
    Integer port;

    @Option(names = "--host", description = "Address to listen on (default 0.0.0.0)")
    String host;

    @Option(names = "--api-key", description = "API key(s), comma-separated, clients must send as 'Authorization: Bearer"
            + " <key>' (visible in ps: prefer CONTINUUM_API_KEY or continuum.api-key-file)")
    String apiKey;

    void applyAsSystemProperties() {
        set("continuum.model", model);
        set("continuum.tokenizer", tokenizer);
        set("continuum.quantize", quantize);
        set("continuum.backend", backend);
        set("continuum.speculative-model", speculative.model);
        set("continuum.speculative-ngram", text(speculative.ngram));
        set("continuum.num-speculative-tokens", text(speculative.numTokens));
        set("continuum.speculative-disable-above", text(speculative.disableAbove));
        set("quarkus.http.port", port == null ? null : port.toString());
        set("quarkus.http.host", host);
        set("continuum.api-key", apiKey);
    }

    private static String text(Integer value) {
        return value == null ? null : value.toString();
    }

    private static void set(String key, String value) {
        if (value != null) {
            System.setProperty(key, value);
        }
    }

    @Override
    public void run() {
        applyAsSystemProperties();
        io.quarkus.runtime.Quarkus.run();
    }
}
