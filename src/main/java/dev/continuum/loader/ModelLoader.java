package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Turns a model spec into a loaded model: {@code embedded:NAME} (a real model shipped in the jar, the default),
 * {@code dummy:NAME[:TYPE]}, a {@code .gguf} file, or a llama2.c {@code .bin} checkpoint (which needs a tokenizer
 * file).
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    /**
     * Loads the model with its weights as the file stores them (row-major); each model runner prepares the layout
     * its kernels read.
     */
    public static LoadedModel load(String spec, Path tokenizer) {
        return load(spec, tokenizer, null);
    }

    /**
     * As {@link #load(String, Path)}, then with the linear weights converted to {@code quantize}'s format (see
     * {@link LoadQuantization}) unless it is null.
     *
     * @throws ModelFormatException also when {@code quantize} is given for a file whose weights are not all float
     */
    public static LoadedModel load(String spec, Path tokenizer, LoadQuantization quantize) {
        LoadedModel m = load0(spec, tokenizer);
        if (quantize == null) {
            return m;
        }
        try {
            return quantize.apply(spec, m);
        } catch (RuntimeException | OutOfMemoryError e) {
            m.close();
            throw e;
        }
    }

    private static LoadedModel load0(String spec, Path tokenizer) {
        try {
            return loadUnchecked(spec, tokenizer);
        } catch (ModelFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            // The loaders report every problem they foresee as a ModelFormatException; anything else is a bug
            // that a hostile file reached, and its bare message ("-133268040") would tell an operator nothing.
            throw new ModelFormatException(spec + ": cannot load the model: " + e, e);
        } catch (OutOfMemoryError e) {
            throw new ModelFormatException(spec + ": ran out of memory while loading the model (" + e.getMessage()
                    + "; heap limit " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB): the file claims"
                    + " sizes this JVM cannot hold", e);
        }
    }

    private static LoadedModel loadUnchecked(String spec, Path tokenizer) {
        if (spec == null || spec.isBlank()) {
            throw new ModelFormatException("no model given");
        }
        if (spec.startsWith(EmbeddedModelLoader.PREFIX)) {
            return EmbeddedModelLoader.load(spec.substring(EmbeddedModelLoader.PREFIX.length()));
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
