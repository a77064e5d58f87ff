package dev.continuum.model;

import dev.continuum.tensor.ComputePool;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The model architectures Continuum computes, one row of traits each (as ggml describes each weight type once):
 * the GGUF {@code general.architecture} name, how the architecture rotates, the CPU forward pass that computes it,
 * and which of the other parts of the product compute it too. A file naming an architecture outside this table is
 * refused at load with the list of names in it.
 *
 * <p>Each forward pass is a class of its own ({@link LlamaModel}, ...) sharing the kernels, norms, rope and
 * attention; an architecture's quirks live in its own pass, not as flags in another's.
 */
public enum Architecture {
    /**
     * Llama, and Mixtral (a {@code llama} file with {@code expert_count}): its mixture of experts is the feed-forward
     * {@link LlamaModel} picks from the config ({@link FeedForward}); CUDA and GPTQ refuse experts by the count.
     */
    LLAMA("llama", RopeType.INTERLEAVED, LlamaModel::new, true, true, true),
    MISTRAL("mistral", RopeType.INTERLEAVED, LlamaModel::new, true, true, false),
    QWEN2("qwen2", RopeType.NEOX, LlamaModel::new, true, true, false),
    /** Qwen3: Llama's block with each head's query and key RMS-normalised before rotation. */
    QWEN3("qwen3", RopeType.NEOX, LlamaModel::new, false, false, true),
    /**
     * GPT-2: learned absolute positions (no rotation), LayerNorms with biases, biased projections, an ungated
     * tanh-GELU feed-forward.
     */
    GPT2("gpt2", RopeType.NONE, Gpt2Model::new, false, false, false),
    /**
     * Phi-3: exactly Llama's block once the loader splits its fused attn_qkv and gate-up matrices, with NEOX
     * rotation, longrope frequency factors and a sliding window over every layer.
     */
    PHI3("phi3", RopeType.NEOX, LlamaModel::new, false, false, false),
    /**
     * Gemma 2: embeddings scaled by sqrt(dim), post-attention and post-feed-forward norms, GeGLU, attention- and
     * final-logit soft-capping, even layers windowed.
     */
    GEMMA2("gemma2", RopeType.NEOX, GemmaModel::new, false, false, false),
    /**
     * Gemma 3: Gemma 2's block without soft-caps, with per-head query and key norms, five windowed layers (rotated
     * at base 10 000) to each global one.
     */
    GEMMA3("gemma3", RopeType.NEOX, GemmaModel::new, false, false, false);

    /** Builds an architecture's forward pass over weights already in the kernels' layout. */
    @FunctionalInterface
    interface PassFactory {
        Transformer create(LlamaConfig config, LlamaWeights weights, ComputePool pool);
    }

    private final String ggufName;
    private final RopeType ropeType;
    private final PassFactory pass;
    private final boolean cuda;
    private final boolean gptq;
    private final boolean export;

    Architecture(String ggufName, RopeType ropeType, PassFactory pass, boolean cuda, boolean gptq, boolean export) {
        this.ggufName = ggufName;
        this.ropeType = ropeType;
        this.pass = pass;
        this.cuda = cuda;
        this.gptq = gptq;
        this.export = export;
    }

    /** The architecture a GGUF file's {@code general.architecture} names, or null when it is not in the table. */
    public static Architecture named(String ggufName) {
        for (Architecture a : values()) {
            if (a.ggufName.equals(ggufName)) {
                return a;
            }
        }
        return null;
    }

    /** The names of the table, sorted and comma-separated, for errors. */
    public static String supportedNames() {
        return Arrays.stream(values()).map(a -> a.ggufName).sorted().collect(Collectors.joining(", "));
    }

    public String ggufName() {
        return ggufName;
    }

    /** The rotation the architecture's files expect (llama.cpp's rope type for it). */
    public RopeType ropeType() {
        return ropeType;
    }

    /** Whether the CUDA runner computes this architecture. */
    public boolean cudaComputes() {
        return cuda;
    }

    /** Whether GPTQ calibration's float forward pass computes this architecture. */
    public boolean gptqComputes() {
        return gptq;
    }

    /** Whether {@code GgufExporter} writes this architecture's files. */
    public boolean exportable() {
        return export;
    }

    Transformer createPass(LlamaConfig config, LlamaWeights weights, ComputePool pool) {
        return pass.create(config, weights, pool);
    }

    @Override
    public String toString() {
        return ggufName;
    }
}
