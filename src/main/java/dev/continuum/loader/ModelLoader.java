package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.model.LlamaWeights;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Turns a model spec into a loaded model: {@code dummy:NAME[:TYPE]}, a {@code .gguf} file, or a llama2.c
 * {@code .bin} checkpoint (which needs a tokenizer file).
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    /** Loads the model with its weights repacked for the vector kernels (see {@link LlamaWeights#interleaved}). */
    public static LoadedModel load(String spec, Path tokenizer) {
        LoadedModel m = loadAsStored(spec, tokenizer);
        try {
            return new LoadedModel(m.name(), m.description(), m.config(), m.weights().interleaved(), m.tokenizer(),
                    m.chatTemplate(), m.arena());
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** Loads the model with its weights in the file's row-major layout. */
    public static LoadedModel loadAsStored(String spec, Path tokenizer) {
        if (spec == null || spec.isBlank()) {
            throw new ModelFormatException("no model given");
        }
        if (spec.startsWith("dummy:")) {
            return DummyModelFactory.create(spec.substring("dummy:".length()));
        }
        Path path = Path.of(spec);
        if (path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".bin")) {
            Path tok = tokenizer != null ? tokenizer : path.resolveSibling("tokenizer.bin");
            return Llama2cModelLoader.load(path, tok);
        }
        return GgufModelLoader.load(path);
    }
}
