package dev.continuum.cli;

import dev.continuum.format.ModelFormatException;
import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.quantize.Calibration;
import dev.continuum.quantize.GgufQuantizer;
import dev.continuum.quantize.QuantizeType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code quantize}: writes an F32/F16/BF16 model as a quantized GGUF file, byte for byte what llama-quantize
 * writes for the same input and type. A GGUF input is read directly; any other model spec (a llama2.c
 * checkpoint, {@code dummy:}) is first exported to a temporary GGUF next to the output.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize an F32/F16/BF16 model to a GGUF file, as llama-quantize does (no imatrix).")
final class QuantizeCommand implements Callable<Integer> {
    /** Inputs above this size get a progress line even when stderr is not a terminal. */
    private static final long PROGRESS_BYTES = 1L << 30;

    @Option(names = "--model", required = true, description = "Input: a .gguf file, a llama2.c .bin, or dummy:NAME:f16")
    String model;

    @Option(names = "--tokenizer", description = "Tokenizer file for a llama2.c checkpoint")
    Path tokenizer;

    @Option(names = "--type", required = true,
            description = "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_S, Q3_K_M (=Q3_K), Q3_K_L, Q4_K_S, Q4_K_M (=Q4_K),"
                    + " Q5_K_S, Q5_K_M (=Q5_K), Q6_K, F16, BF16, F32")
    String type;

    @Option(names = "--out", required = true, description = "The GGUF file to write")
    Path out;

    @Option(names = "--pure", description = "Every matrix gets the type itself, no per-tensor mix (llama-quantize --pure)")
    boolean pure;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--gptq", description = "Round by GPTQ every matrix the type gives 32-value blocks (Q8_0, Q4_0, Q4_1,"
            + " Q5_0, Q5_1, IQ4_NL: the mixes' fallbacks too); needs --calibration")
    boolean gptq;

    @Option(names = "--calibration", description = "Text file the model runs over to collect GPTQ's Hessians")
    Path calibration;

    @Option(names = "--calibration-tokens", defaultValue = "16384",
            description = "Calibration tokens at most (default: ${DEFAULT-VALUE})")
    int calibrationTokens;

    @Override
    public Integer call() {
        PrintStream err = System.err;
        QuantizeType t;
        try {
            t = QuantizeType.parse(type);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        if (threads != null && threads < 1) {
            err.println("error: --threads must be >= 1");
            return 2;
        }
        if (gptq != (calibration != null)) {
            err.println("error: --gptq and --calibration go together");
            return 2;
        }
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        Path temp = null;
        try {
            Path in = Path.of(model);
            if (!model.toLowerCase(Locale.ROOT).endsWith(".gguf")) {
                temp = exportToGguf();
                in = temp;
            } else if (!Files.isRegularFile(in)) {
                err.println("error: " + model + ": no such model file");
                return 1;
            }
            long start = System.nanoTime();
            boolean showProgress = (System.console() != null && System.console().isTerminal())
                    || Files.size(in) > PROGRESS_BYTES;
            Map<String, double[]> hessians = gptq ? hessians(in) : Map.of();
            GgufQuantizer.Result r = GgufQuantizer.quantize(in, out, t, pure, n,
                    showProgress ? QuantizeCommand::progress : null, hessians);
            if (showProgress) {
                err.println();
            }
            err.printf(Locale.ROOT, "wrote %s: %s, %d tensors, %.1f MiB -> %.1f MiB in %.2f s%s%n", out, t,
                    r.tensors().size(), r.inputBytes() / 1048576.0, r.outputBytes() / 1048576.0,
                    (System.nanoTime() - start) / 1e9,
                    r.fallbacks() > 0 ? " (" + r.fallbacks() + " tensors used a fallback type)" : "");
            if (gptq) {
                long byGptq = 0;
                for (GgufQuantizer.TensorResult tr : r.tensors()) {
                    byGptq += tr.gptq() ? 1 : 0;
                }
                err.printf(Locale.ROOT, "GPTQ: %d matrices by GPTQ, the others rounded to nearest%n", byGptq);
            }
            return 0;
        } catch (ModelFormatException | IllegalArgumentException | IOException e) {
            err.println("error: " + e.getMessage());
            return 1;
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException e) {
                    err.println("WARNING: cannot delete " + temp + ": " + e.getMessage());
                }
            }
        }
    }

    private Map<String, double[]> hessians(Path in) throws IOException {
        String text = Files.readString(calibration);
        long start = System.nanoTime();
        try (LoadedModel m = ModelLoader.load(in.toString(), null)) {
            Map<String, double[]> h = Calibration.hessians(m, text, calibrationTokens);
            System.err.printf(Locale.ROOT, "GPTQ: Hessians of %d matrices from %s in %.2f s%n", h.size(), calibration,
                    (System.nanoTime() - start) / 1e9);
            return h;
        }
    }

    private Path exportToGguf() throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        Path temp = Files.createTempFile(dir, ".continuum-quantize-", ".gguf");
        try (LoadedModel m = ModelLoader.load(model, tokenizer)) {
            System.err.println("loaded " + m.description());
            GgufExporter.write(m, temp);
        } catch (RuntimeException | IOException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        return temp;
    }

    private static void progress(int done, int total, long bytesDone, long bytesTotal) {
        System.err.printf(Locale.ROOT, "\rquantizing: tensor %d/%d, %.1f/%.1f MiB", done, total,
                bytesDone / 1048576.0, bytesTotal / 1048576.0);
    }
}
