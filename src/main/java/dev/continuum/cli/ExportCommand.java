package dev.continuum.cli;

import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code export}: writes a model (typically a {@code dummy:} one) as a GGUF file that llama.cpp reads too, so
 * both engines can be benchmarked on the very same bytes.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a model (e.g. dummy:1b:f16) as a llama.cpp-compatible GGUF file.")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model spec, e.g. dummy:110m:f16")
    String model;

    @Option(names = "--tokenizer", description = "Tokenizer file for a llama2.c checkpoint")
    Path tokenizer;

    @Option(names = "--output", required = true, description = "The GGUF file to write")
    Path output;

    @Override
    public Integer call() throws Exception {
        try (LoadedModel m = ModelLoader.load(model, tokenizer)) {
            System.err.println("loaded " + m.description());
            GgufExporter.write(m, output);
            System.err.printf("wrote %s (%.1f MiB)%n", output, Files.size(output) / (double) (1 << 20));
        }
        return 0;
    }
}
