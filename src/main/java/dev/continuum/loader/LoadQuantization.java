package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.model.LayerWeights;
import dev.continuum.model.LlamaWeights;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.Int4Tensor;
import dev.continuum.tensor.Int8Tensor;
import dev.continuum.tensor.Nf4Tensor;
import dev.continuum.tensor.WeightTensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The {@code --quantize} model option: a float model's linear weights converted at load into an in-memory
 * weight-only format, {@code int8}, {@code int4:G} (G = 32..256, a multiple of 32) or {@code nf4}. Converted: every
 * layer's seven projection matrices and the output matrix; not the norms (vectors). The token embedding is
 * converted only when the file ties it to the output matrix (one tensor, read by both); an untied embedding stays
 * float, since the forward pass only copies one of its rows per token and converting it would save memory but no
 * time. A matrix whose rows do not fit the format (int8: a multiple of 16 columns; int4: whole groups; nf4: whole
 * 64-weight blocks) stays float, and the model's description counts it.
 *
 * @param name  the option's value as given ("int8", "int4:128", "nf4")
 * @param group int4's group size, 0 for the others
 */
public record LoadQuantization(String name, int group) {
    /** The option's values, for messages. */
    public static final String VALUES = "int8, int4:G (G = 32..256, a multiple of 32) or nf4";

    /** Parses the option; null or blank means none (returns null). */
    public static LoadQuantization parse(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        if (v.equals("int8") || v.equals("nf4")) {
            return new LoadQuantization(v, 0);
        }
        if (v.startsWith("int4:")) {
            String g = v.substring("int4:".length());
            int group = g.matches("[0-9]{1,4}") ? Integer.parseInt(g) : -1;
            if (group >= 32 && group <= 256 && group % 32 == 0) {
                return new LoadQuantization(v, group);
            }
            throw new IllegalArgumentException("--quantize " + value + ": the int4 group size must be 32..256 and a"
                    + " multiple of 32, got '" + g + "'");
        }
        throw new IllegalArgumentException("--quantize " + value + ": unknown format '" + value + "'; expected "
                + VALUES);
    }

    /**
     * {@code model} with its linear weights converted; {@code spec} names the file in the error a model with
     * weights not all float gets.
     */
    public LoadedModel apply(String spec, LoadedModel model) {
        LlamaWeights w = model.weights();
        for (GgmlType t : w.matrixTypes()) {
            if (t != GgmlType.F32 && t != GgmlType.F16 && t != GgmlType.BF16) {
                throw new ModelFormatException("--quantize needs float weights; " + spec + " holds " + t);
            }
        }
        Map<WeightTensor, WeightTensor> done = new IdentityHashMap<>();
        int[] kept = new int[1];
        LayerWeights[] layers = new LayerWeights[w.layers().length];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = w.layers()[l].mapMatrices(t -> convert(done, t, kept));
        }
        WeightTensor output = convert(done, w.output(), kept);
        WeightTensor embedding = done.getOrDefault(w.tokenEmbedding(), w.tokenEmbedding());
        LlamaWeights q = new LlamaWeights(embedding, layers, w.outputNorm(), output, w.positionEmbedding(),
                w.outputNormBias());
        String note = "weights quantized at load to " + name + " (" + (done.size() - kept[0]) + " matrices"
                + (kept[0] > 0 ? ", " + kept[0] + " left float: rows do not fit " + name : "")
                + (embedding != w.tokenEmbedding() ? ", token embedding tied to output" : "") + ")";
        return new LoadedModel(model.name(), model.description() + ", " + note, model.config(), q, model.tokenizer(),
                model.chatTemplate(), model.arena());
    }

    private WeightTensor convert(Map<WeightTensor, WeightTensor> done, WeightTensor t, int[] kept) {
        WeightTensor c = done.get(t);
        if (c != null) {
            return c;
        }
        c = fits(t) ? quantize(t) : t;
        if (c == t) {
            kept[0]++;
        }
        done.put(t, c);
        return c;
    }

    private boolean fits(WeightTensor t) {
        return switch (name) {
            case "int8" -> t.cols() % 16 == 0;
            case "nf4" -> t.cols() % Nf4Tensor.BLOCK == 0;
            default -> t.cols() % group == 0;
        };
    }

    private WeightTensor quantize(WeightTensor t) {
        return switch (name) {
            case "int8" -> Int8Tensor.quantize(t);
            case "nf4" -> Nf4Tensor.quantize(t);
            default -> Int4Tensor.quantize(t, group);
        };
    }
}
