package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.model.Architecture;
import dev.continuum.model.LayerWeights;
import dev.continuum.model.LlamaConfig;
import dev.continuum.model.LlamaWeights;
import dev.continuum.tensor.WeightTensor;
import dev.continuum.tokenizer.Tokenizer;

import java.lang.foreign.Arena;
import java.nio.file.Path;

/**
 * Builds a model of one of the {@link Architecture}s from a GGUF file, reading every hyper-parameter from its
 * metadata and exactly the tensors its architecture has.
 */
public final class GgufModelLoader {
    private GgufModelLoader() {
    }

    public static LoadedModel load(Path path) {
        Arena arena = Arena.ofShared();
        try {
            GgufFile file = GgufFile.open(path, arena);
            return build(file, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    static LoadedModel build(GgufFile file, Arena arena) {
        var md = file.metadata();
        String src = file.path().getFileName().toString();
        String arch = md.getString("general.architecture");
        Architecture architecture = Architecture.named(arch);
        if (architecture == null) {
            throw new ModelFormatException(src + ": architecture '" + arch + "' is not supported (supported: "
                    + Architecture.supportedNames() + ")");
        }
        // Every hyper-parameter is checked against the tensor table before anything is sized from it.
        LlamaConfig config = LlamaConfigReader.read(file, architecture);
        int dim = config.dim();
        WeightTensor embedding = tensor(file, "token_embd.weight");
        WeightShapes.expect(embedding, "token_embd.weight", config.vocabSize(), dim);
        LayerWeights[] layers = new LayerWeights[config.layers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "blk." + l + ".";
            layers[l] = switch (architecture) {
                case GPT2 -> FusedLayers.gpt2Layer(file, config, p);
                case PHI3 -> FusedLayers.phi3Layer(file, config, p);
                default -> layer(file, config, p);
            };
        }
        float[] outputNorm = WeightShapes.vector(tensor(file, "output_norm.weight"), "output_norm.weight", dim);
        if (architecture == Architecture.GEMMA2 && file.tensors().containsKey("output.weight")) {
            // llama.cpp's gemma2 always ties the output to the embedding and refuses a file with tensors it does
            // not read: computing this one would be a model no other engine runs.
            throw new ModelFormatException(src + ": gemma2 ties its output to 'token_embd.weight': tensor"
                    + " 'output.weight' is not part of the architecture");
        }
        boolean gpt2 = architecture == Architecture.GPT2;
        WeightTensor positions = gpt2 ? FusedLayers.positionEmbedding(file, config) : null;
        float[] outputNormBias = gpt2
                ? WeightShapes.vector(tensor(file, "output_norm.bias"), "output_norm.bias", dim) : null;
        // Phi-3's output matrix is its own (llama.cpp requires it); elsewhere a file without one ties it.
        WeightTensor output = file.tensors().containsKey("output.weight") || architecture == Architecture.PHI3
                ? WeightShapes.expect(tensor(file, "output.weight"), "output.weight", config.vocabSize(), dim)
                : embedding;
        Tokenizer tokenizer = GgufTokenizerReader.read(md);
        if (tokenizer.vocabSize() != config.vocabSize()) {
            throw new ModelFormatException(src + ": tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the embedding has " + config.vocabSize() + " rows");
        }
        String name = src.endsWith(".gguf") ? src.substring(0, src.length() - 5) : src;
        String description = String.format("%s (%s, %s, %.1fM parameters, %d layers, dim %d, context %d)",
                src, arch, dominantType(file), config.parameterCount() / 1e6, config.layers(), dim,
                config.contextLength());
        return new LoadedModel(name, description, config,
                new LlamaWeights(embedding, layers, outputNorm, output, positions, outputNormBias),
                tokenizer, md.getString("tokenizer.chat_template", null), arena);
    }

    private static LayerWeights layer(GgufFile file, LlamaConfig c, String p) {
        LayerWeights common = commonLayer(file, c, p);
        return switch (c.architecture()) {
            case GEMMA2, GEMMA3 -> gemmaLayer(file, c, p, common);
            default -> common;
        };
    }

    /**
     * A Gemma layer: the common tensors, the norms of the attention's and the feed-forward's outputs, and for
     * Gemma 3 the per-head query and key norms.
     */
    private static LayerWeights gemmaLayer(GgufFile file, LlamaConfig c, String p, LayerWeights w) {
        float[] postAttn = WeightShapes.vector(tensor(file, p + "post_attention_norm.weight"),
                p + "post_attention_norm.weight", c.dim());
        float[] postFfn = WeightShapes.vector(tensor(file, p + "post_ffw_norm.weight"), p + "post_ffw_norm.weight",
                c.dim());
        boolean gemma3 = c.architecture() == Architecture.GEMMA3;
        float[] qNorm = gemma3 ? WeightShapes.vector(tensor(file, p + "attn_q_norm.weight"), p + "attn_q_norm.weight",
                c.headDim()) : null;
        float[] kNorm = gemma3 ? WeightShapes.vector(tensor(file, p + "attn_k_norm.weight"), p + "attn_k_norm.weight",
                c.headDim()) : null;
        return new LayerWeights(w.attnNorm(), w.wq(), w.wk(), w.wv(), w.bq(), w.bk(), w.bv(), w.wo(), w.ffnNorm(),
                w.gate(), w.up(), w.down(), qNorm, kNorm, postAttn, postFfn, null, null, null, null, null, null);
    }

    private static LayerWeights commonLayer(GgufFile file, LlamaConfig c, String p) {
        int dim = c.dim();
        boolean experts = c.expertCount() > 0;
        LayerWeights w = new LayerWeights(
                WeightShapes.vector(tensor(file, p + "attn_norm.weight"), p + "attn_norm.weight", dim),
                WeightShapes.expect(tensor(file, p + "attn_q.weight"), p + "attn_q.weight", c.qDim(), dim),
                WeightShapes.expect(tensor(file, p + "attn_k.weight"), p + "attn_k.weight", c.kvDim(), dim),
                WeightShapes.expect(tensor(file, p + "attn_v.weight"), p + "attn_v.weight", c.kvDim(), dim),
                optionalVector(file, p + "attn_q.bias", c.qDim()),
                optionalVector(file, p + "attn_k.bias", c.kvDim()),
                optionalVector(file, p + "attn_v.bias", c.kvDim()),
                WeightShapes.expect(tensor(file, p + "attn_output.weight"), p + "attn_output.weight", dim, c.qDim()),
                WeightShapes.vector(tensor(file, p + "ffn_norm.weight"), p + "ffn_norm.weight", dim),
                experts ? null : WeightShapes.expect(tensor(file, p + "ffn_gate.weight"), p + "ffn_gate.weight", c.ffnDim(), dim),
                experts ? null : WeightShapes.expect(tensor(file, p + "ffn_up.weight"), p + "ffn_up.weight", c.ffnDim(), dim),
                experts ? null : WeightShapes.expect(tensor(file, p + "ffn_down.weight"), p + "ffn_down.weight", dim, c.ffnDim()),
                headNorm(file, c, p + "attn_q_norm.weight"),
                headNorm(file, c, p + "attn_k_norm.weight"));
        return experts ? w.withExperts(ExpertTensors.read(file, c, p)) : w;
    }

    /** Qwen3's per-head query or key norm (required there, one weight per head dimension); null elsewhere. */
    private static float[] headNorm(GgufFile file, LlamaConfig c, String name) {
        return c.architecture() == Architecture.QWEN3 ? WeightShapes.vector(tensor(file, name), name, c.headDim()) : null;
    }

    private static float[] optionalVector(GgufFile file, String name, int n) {
        return file.tensors().containsKey(name) ? WeightShapes.vector(tensor(file, name), name, n) : null;
    }

    static WeightTensor tensor(GgufFile file, String name) {
        GgufTensorInfo info = file.tensor(name);
        return WeightTensor.of(name, info.type(), file.bytes(info), info.rows(), info.columns());
    }

    private static String dominantType(GgufFile file) {
        GgufTensorInfo t = file.tensors().getOrDefault("blk.0.ffn_down.weight",
                file.tensors().get("blk.0.ffn_down_exps.weight"));
        return t == null ? "?" : t.type().name();
    }
}
