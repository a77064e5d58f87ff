package dev.continuum.cuda;

import dev.continuum.model.LlamaWeights;
import dev.continuum.tensor.GgmlType;

import java.util.EnumSet;
import java.util.Set;

/**
 * Which weight types the CUDA kernels read, asked before anything touches the driver: the CPU reads more (the
 * K-quants and the other block formats), so {@code --backend auto} serves such a model from the CPU and
 * {@code --backend cuda} refuses it naming the type. No JCuda class is involved, so a CPU-only JVM can ask.
 */
public final class CudaWeightTypes {
    private static final Set<GgmlType> READABLE = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q8_0, GgmlType.Q4_0);

    private CudaWeightTypes() {
    }

    /** Whether the CUDA kernels read {@code type} weights (kernels named for it exist). */
    static boolean readable(GgmlType type) {
        return READABLE.contains(type);
    }

    /** Why a model with {@code type} weights cannot run on the GPU, naming the type and what the GPU reads. */
    static String unreadable(GgmlType type) {
        return "the CUDA kernels do not read " + type + " weights (they read F32, F16, BF16, Q8_0 and Q4_0);"
                + " the CPU backend reads " + type;
    }

    /**
     * Why the CUDA kernels cannot run this model, naming the first weight type of its matrices or token embedding
     * they do not read, or null when they read them all.
     */
    public static String unreadableWeights(LlamaWeights weights) {
        Set<GgmlType> types = EnumSet.copyOf(weights.matrixTypes());
        types.add(weights.tokenEmbedding().type());
        for (GgmlType type : types) {
            if (!readable(type)) {
                return unreadable(type);
            }
        }
        return null;
    }
}
