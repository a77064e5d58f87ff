package dev.continuum.cuda;

import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.model.CpuModelRunner;
import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.tensor.ComputePool;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Java stage of {@code gpu/check}, for a machine with a GPU and no JDK (it runs on the JRE the bundle carries,
 * with only the project's classes and JCuda): the CUDA runner against the CPU runner, greedy token for token, on
 * stories260K and a dummy 15M Q8_0 model; then the CUDA runner's speed on the 110M and 1.1B shapes in Q8_0 and Q4_0:
 * single-stream decode, 16 sequences decoding at once (aggregate), and a 512-token prefill. One table on stdout,
 * one JSON line per measurement in {@code OUT/gpu-check.jsonl}. {@code --quick} shrinks everything to shapes the
 * emulated device runs in seconds (so CI runs this very code).
 *
 * <p>Usage: {@code GpuCheckMain --out DIR [--models DIR] [--quick]}; exit status 1 if a check failed.
 */
public final class GpuCheckMain {
    private static final int BLOCK_SIZE = 16;
    /** As the emulated greedy test: a divergence is allowed where the CPU's best two logits are this close. */
    private static final float NEAR_TIE = 2e-2f;

    private final PrintStream out;
    private final List<String> json = new ArrayList<>();
    private final List<String[]> table = new ArrayList<>();
    private boolean failed;

    private GpuCheckMain(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) throws IOException {
        Path outDir = Path.of("gpu-out");
        Path models = Path.of("target/gpu-check/models");
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> outDir = Path.of(args[++i]);
                case "--models" -> models = Path.of(args[++i]);
                case "--quick" -> quick = true;
                default -> {
                    System.err.println("usage: GpuCheckMain --out DIR [--models DIR] [--quick]");
                    System.exit(2);
                }
            }
        }
        Files.createDirectories(outDir);
        GpuCheckMain check = new GpuCheckMain(new PrintStream(System.out, true, StandardCharsets.UTF_8));
        int status = check.run(models, quick);
        Files.write(outDir.resolve("gpu-check.jsonl"), check.json, StandardCharsets.UTF_8);
        System.exit(status);
    }

    private int run(Path models, boolean quick) {
        CudaAvailability a = CudaProbe.availability();
        out.println("cuda: " + (a.available() ? "available, driver " + a.driverVersionText() : a.reason()));
        if (!a.available()) {
            return 1;
        }
        try (ComputePool pool = ComputePool.ofAvailableCores()) {
            Path stories = models.resolve("stories260K.gguf");
            if (Files.exists(stories)) {
                greedy(stories.toString(), pool, quick ? 16 : 64);
            } else {
                row("greedy", stories.toString(), "MISSING", "", "");
                failed = true;
            }
            greedy(quick ? "dummy:tiny:q8_0" : "dummy:15m:q8_0", pool, quick ? 8 : 64);
            String[] specs = quick ? new String[] {"dummy:tiny:q8_0", "dummy:tiny:q4_0"}
                    : new String[] {"dummy:110m:q8_0", "dummy:110m:q4_0", "dummy:1b:q8_0", "dummy:1b:q4_0"};
            for (String spec : specs) {
                speed(spec, quick);
            }
        }
        out.println();
        out.printf(Locale.ROOT, "%-10s %-22s %-12s %14s %s%n", "check", "model", "result", "value", "detail");
        for (String[] r : table) {
            out.printf(Locale.ROOT, "%-10s %-22s %-12s %14s %s%n", (Object[]) r);
        }
        return failed ? 1 : 0;
    }

    /** Greedy decoding on both runners; equal, or parted only where the CPU's best two logits nearly tie. */
    private void greedy(String spec, ComputePool pool, int steps) {
        try (LoadedModel m = ModelLoader.load(spec, null)) {
            int vocab = m.config().vocabSize();
            int[] prompt = {Math.min(1, vocab - 1), 13 % vocab, 29 % vocab, 101 % vocab, 7 % vocab};
            int[] gpu;
            float[] gpuFirst;
            try (CudaModelRunner cuda = new CudaModelRunner(m.config(), m.weights())) {
                gpuFirst = new float[vocab];
                gpu = decode(cuda, prompt, steps, gpuFirst);
            }
            float[] cpuFirst = new float[vocab];
            float[] margins = new float[steps];
            int[] cpu = decode(new CpuModelRunner(m.config(), m.weights(), pool), prompt, steps, cpuFirst, margins);
            float diff = 0;
            for (int i = 0; i < vocab; i++) {
                diff = Math.max(diff, Math.abs(gpuFirst[i] - cpuFirst[i]));
            }
            int parted = -1;
            for (int s = 0; s < steps && parted < 0; s++) {
                if (cpu[s] != gpu[s]) {
                    parted = s;
                }
            }
            boolean ok = parted < 0 || margins[parted] < NEAR_TIE;
            failed |= !ok;
            String result = parted < 0 ? "EQUAL" : ok ? "NEAR-TIE" : "DIFFERENT";
            row("greedy", spec, result, String.format(Locale.ROOT, "%d/%d", parted < 0 ? steps : parted, steps),
                    String.format(Locale.ROOT, "first-step max |logit diff| %.2e%s", diff,
                            parted < 0 ? "" : String.format(Locale.ROOT, ", CPU margin at the parting %.2e", margins[parted])));
            json.add(String.format(Locale.ROOT, "{\"check\":\"greedy\",\"model\":\"%s\",\"result\":\"%s\",\"equal_tokens\":%d,"
                    + "\"steps\":%d,\"max_logit_diff\":%.3e}", spec, result, parted < 0 ? steps : parted, steps, diff));
        } catch (RuntimeException e) {
            failed = true;
            row("greedy", spec, "ERROR", "", e.toString());
        }
    }

    private static int[] decode(ModelRunner runner, int[] prompt, int steps, float[] first) {
        return decode(runner, prompt, steps, first, new float[steps]);
    }

    private static int[] decode(ModelRunner runner, int[] prompt, int steps, float[] first, float[] margins) {
        int vocab = runner.shape().vocabSize();
        int blocks = (prompt.length + steps + BLOCK_SIZE - 1) / BLOCK_SIZE;
        runner.allocateKvCache(blocks, BLOCK_SIZE);
        int[][] table = {new int[blocks]};
        for (int b = 0; b < blocks; b++) {
            table[0][b] = b;
        }
        StepBatch batch = new StepBatch(prompt.length, 1, table, BLOCK_SIZE);
        for (int i = 0; i < prompt.length; i++) {
            batch.addRow(prompt[i], i, 0);
        }
        batch.requestLogits(prompt.length - 1);
        StepOutput o = runner.forward(batch);
        System.arraycopy(o.logits(), 0, first, 0, vocab);
        int[] tokens = new int[steps];
        for (int s = 0; s < steps; s++) {
            float[] l = o.logits();
            int best = Logits.argmax(l, 0, vocab);
            float second = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) {
                if (i != best && l[i] > second) {
                    second = l[i];
                }
            }
            margins[s] = l[best] - second;
            tokens[s] = best;
            if (s + 1 < steps) {
                batch.clear();
                batch.addRow(best, prompt.length + s, 0);
                batch.requestLogits(0);
                o = runner.forward(batch);
            }
        }
        return tokens;
    }

    /** Decode tokens/s for one sequence and for sixteen, and prefill tokens/s for one long prompt. */
    private void speed(String spec, boolean quick) {
        int steps = quick ? 8 : 128;
        int prefill = quick ? 40 : 512;
        try (LoadedModel m = ModelLoader.load(spec, null);
             CudaModelRunner cuda = new CudaModelRunner(m.config(), m.weights())) {
            cuda.warmUp(quick ? 2 : 16);
            for (int sequences : new int[] {1, 16}) {
                double tps = decodeSpeed(cuda, sequences, 16, steps);
                row("decode", spec, sequences + " seq", String.format(Locale.ROOT, "%.1f tok/s", tps),
                        sequences == 1 ? "single stream" : "aggregate over " + sequences + " sequences");
                json.add(String.format(Locale.ROOT, "{\"check\":\"decode\",\"model\":\"%s\",\"sequences\":%d,"
                        + "\"tokens_per_second\":%.2f}", spec, sequences, tps));
            }
            double pps = prefillSpeed(cuda, prefill);
            row("prefill", spec, prefill + " tok", String.format(Locale.ROOT, "%.1f tok/s", pps), "one prompt, one step");
            json.add(String.format(Locale.ROOT, "{\"check\":\"prefill\",\"model\":\"%s\",\"tokens\":%d,"
                    + "\"tokens_per_second\":%.2f}", spec, prefill, pps));
        } catch (RuntimeException e) {
            failed = true;
            row("speed", spec, "ERROR", "", e.toString());
        }
    }

    /** {@code sequences} sequences with a {@code promptLength} prompt each, then {@code steps} decode steps timed. */
    private static double decodeSpeed(ModelRunner runner, int sequences, int promptLength, int steps) {
        int vocab = runner.shape().vocabSize();
        int perSeq = (promptLength + steps + BLOCK_SIZE - 1) / BLOCK_SIZE;
        runner.allocateKvCache(sequences * perSeq, BLOCK_SIZE);
        int[][] tables = new int[sequences][perSeq];
        for (int s = 0; s < sequences; s++) {
            for (int b = 0; b < perSeq; b++) {
                tables[s][b] = s * perSeq + b;
            }
        }
        StepBatch batch = new StepBatch(Math.max(sequences * promptLength, sequences), sequences, tables, BLOCK_SIZE);
        for (int s = 0; s < sequences; s++) {
            batch.markTableChanged(s);
            for (int i = 0; i < promptLength; i++) {
                batch.addRow((s * 31 + i * 7 + 1) % vocab, i, s);
            }
            batch.requestLogits(batch.rows() - 1);
        }
        StepOutput o = runner.forward(batch);
        long start = System.nanoTime();
        for (int step = 0; step < steps; step++) {
            batch.clear();
            for (int s = 0; s < sequences; s++) {
                batch.addRow(Logits.argmax(o.logits(), o.offset(s), vocab), promptLength + step, s);
                batch.requestLogits(s);
            }
            o = runner.forward(batch);
        }
        return (double) steps * sequences / ((System.nanoTime() - start) / 1e9);
    }

    private static double prefillSpeed(ModelRunner runner, int tokens) {
        int vocab = runner.shape().vocabSize();
        int blocks = (tokens + BLOCK_SIZE - 1) / BLOCK_SIZE;
        runner.allocateKvCache(blocks, BLOCK_SIZE);
        int[][] table = {new int[blocks]};
        for (int b = 0; b < blocks; b++) {
            table[0][b] = b;
        }
        StepBatch batch = new StepBatch(tokens, 1, table, BLOCK_SIZE);
        double best = 0;
        for (int round = 0; round < 3; round++) {
            batch.clear();
            batch.markTableChanged(0);
            for (int i = 0; i < tokens; i++) {
                batch.addRow((i * 7919 + 1) % vocab, i, 0);
            }
            batch.requestLogits(tokens - 1);
            long start = System.nanoTime();
            runner.forward(batch);
            best = Math.max(best, tokens / ((System.nanoTime() - start) / 1e9));
        }
        return best;
    }

    private void row(String check, String model, String result, String value, String detail) {
        model = Path.of(model).getFileName().toString(); // a file's name; a dummy spec as it is
        table.add(new String[] {check, model, result, value, detail});
        out.printf(Locale.ROOT, "%s %s: %s %s %s%n", check, model, result, value, detail);
    }
}
