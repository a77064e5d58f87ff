package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.model.CpuModelRunner;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tokenizer.Tokenizer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A seeded mutational fuzzer of the GGUF loader, run in a child JVM with a small heap ({@link GgufMutationFuzzTest}):
 * each mutant of a valid file must either load and run a forward step without an exception, or be refused with a
 * {@link ModelFormatException}. Anything else (another exception, an error, running past the per-mutant timeout)
 * is printed as {@code BAD} with the mutant's index and mutation, and makes the exit code non-zero. Mutant
 * {@code i} depends only on the seed and {@code i}, so a failure reproduces alone.
 *
 * <p>Arguments: model path, seed, mutant count, per-mutant timeout in seconds.
 */
public final class GgufFuzzMain {
    private static final int BLOCK_SIZE = 16;

    /** A mutant: its bytes and how they were made. */
    record Mutant(byte[] image, String kind, String description) {
    }

    private GgufFuzzMain() {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        int count = Integer.parseInt(args[2]);
        long timeoutSeconds = Long.parseLong(args[3]);
        byte[] original = Files.readAllBytes(model);
        GgufFieldMap map = GgufFieldMap.of(original);
        Map<String, int[]> outcomes = new TreeMap<>();
        Map<String, Integer> refusals = new TreeMap<>();
        int bad = 0;
        long start = System.nanoTime();
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-mutant");
            t.setDaemon(true);
            return t;
        });
        try (ComputePool pool = new ComputePool(1)) {
            String baseline = loadAndRun(original, "original.gguf", pool);
            if (baseline != null) {
                System.out.println("BAD the original file is refused: " + baseline);
                System.exit(1);
            }
            for (int i = 0; i < count; i++) {
                Mutant m = mutate(original, map, new SplittableRandom(seed * 1_000_003L + i));
                Future<String> run = worker.submit(() -> loadAndRun(m.image(), "mutant-" + m.kind() + ".gguf", pool));
                String outcome;
                try {
                    String refusal = run.get(timeoutSeconds, TimeUnit.SECONDS);
                    outcome = refusal == null ? "loaded" : "refused";
                    if (refusal != null) {
                        refusals.merge(refusalClass(refusal), 1, Integer::sum);
                    }
                } catch (TimeoutException e) {
                    System.out.println("BAD mutant " + i + " (" + m.description() + ") ran over " + timeoutSeconds
                            + " s");
                    System.out.flush();
                    Runtime.getRuntime().halt(3);
                    return;
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable cause = e.getCause();
                    bad++;
                    outcome = "BAD";
                    System.out.println("BAD mutant " + i + " (" + m.description() + "): " + cause);
                    StackTraceElement[] trace = cause.getStackTrace();
                    for (int f = 0; f < Math.min(4, trace.length); f++) {
                        System.out.println("    at " + trace[f]);
                    }
                }
                int[] row = outcomes.computeIfAbsent(m.kind(), k -> new int[3]);
                row[switch (outcome) { case "loaded" -> 0; case "refused" -> 1; default -> 2; }]++;
            }
        } finally {
            worker.shutdownNow();
        }
        int[] total = new int[3];
        System.out.printf("%d mutants of %s (seed %d) in %.1f s%n", count, model.getFileName(), seed,
                (System.nanoTime() - start) / 1e9);
        System.out.printf("%-14s %8s %8s %8s%n", "mutation", "loaded", "refused", "BAD");
        outcomes.forEach((kind, row) -> {
            System.out.printf("%-14s %8d %8d %8d%n", kind, row[0], row[1], row[2]);
            for (int k = 0; k < 3; k++) {
                total[k] += row[k];
            }
        });
        System.out.printf("%-14s %8d %8d %8d%n", "total", total[0], total[1], total[2]);
        System.out.println("refusals by message:");
        refusals.forEach((message, n) -> System.out.printf("%6d  %s%n", n, message));
        System.out.println("OUTCOMES loaded=" + total[0] + " refused=" + total[1] + " bad=" + bad);
        System.exit(bad == 0 ? 0 : 1);
    }

    /**
     * Loads the image as the server would (parse, build, CPU runner) and runs one forward step of two tokens;
     * returns null when it ran, the refusal's message when the loader refused it with a ModelFormatException.
     * Everything else propagates, as a failure of the fuzz run.
     */
    static String loadAndRun(byte[] image, String name, ComputePool pool) {
        try (Arena arena = Arena.ofConfined()) {
            // Native memory, aligned as a mapped file is: the CPU runner repacks the weights in place.
            MemorySegment segment = arena.allocate(Math.max(1, image.length), 4096);
            MemorySegment.copy(image, 0, segment, ValueLayout.JAVA_BYTE, 0, image.length);
            LoadedModel model;
            try {
                model = GgufModelLoader.build(GgufFile.parse(Path.of(name), segment.asSlice(0, image.length)), arena);
            } catch (ModelFormatException e) {
                if (e.getMessage() == null || e.getMessage().isBlank()) {
                    throw new AssertionError("a ModelFormatException without a message", e);
                }
                return e.getMessage();
            }
            Tokenizer tok = model.tokenizer();
            int[] prompt = tok.encode("Once upon a time", false);
            int first = tok.bosId() >= 0 ? tok.bosId() : 0;
            int second = prompt.length > 0 ? prompt[0] : 0;
            CpuModelRunner runner = new CpuModelRunner(model.config(), model.weights(), pool);
            int positions = Math.min(2, model.config().contextLength());
            runner.allocateKvCache(1, BLOCK_SIZE);
            StepBatch batch = new StepBatch(2, 1, new int[][]{{0}}, BLOCK_SIZE);
            batch.addRow(first, 0, 0);
            if (positions > 1) {
                batch.addRow(second, 1, 0);
            }
            batch.requestLogits(positions - 1);
            StepOutput out = runner.forward(batch);
            if (out.rows() != 1 || out.logits().length < model.config().vocabSize()) {
                throw new AssertionError("forward step gave " + out.rows() + " rows of " + out.logits().length
                        + " logits for a vocabulary of " + model.config().vocabSize());
            }
            tok.decode(prompt);
            return null;
        }
    }

    /** The refusal's message with numbers and quoted names blurred, to count refusals by kind. */
    private static String refusalClass(String message) {
        String m = message.replaceFirst("^[^:]*: ", "").replaceAll("'[^']*'", "'_'").replaceAll("-?\\d+", "N")
                .replaceAll("[^\\x20-\\x7E]", "?");
        return m.length() > 100 ? m.substring(0, 100) : m;
    }

    // ---- mutations

    private static final List<String> HYPER_PARAMETERS = List.of("llama.block_count", "llama.context_length",
            "llama.embedding_length", "llama.feed_forward_length", "llama.attention.head_count",
            "llama.attention.head_count_kv", "llama.rope.dimension_count", "llama.attention.key_length",
            "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
            "general.alignment");

    static Mutant mutate(byte[] original, GgufFieldMap map, SplittableRandom random) {
        byte[] b = original.clone();
        long header = map.headerEnd();
        int roll = random.nextInt(100);
        if (roll < 35) {
            GgufFieldMap.Field f = map.fields().get(random.nextInt(map.fields().size()));
            long value = boundary(read(b, f), f.width(), random);
            write(b, f, value);
            return new Mutant(b, "field", f.what() + " := " + value);
        }
        if (roll < 50) {
            String key = HYPER_PARAMETERS.get(random.nextInt(HYPER_PARAMETERS.size()));
            GgufFieldMap.Field f = map.fields().stream().filter(x -> key.equals(x.key())).findFirst().orElse(null);
            if (f == null) {
                // Keys the file lacks: overwrite a random field instead, still a valid mutation.
                f = map.fields().get(random.nextInt(map.fields().size()));
            }
            long value = boundary(read(b, f), f.width(), random);
            write(b, f, value);
            return new Mutant(b, "hyperparam", f.what() + " := " + value);
        }
        if (roll < 75) {
            int flips = 1 + random.nextInt(8);
            StringBuilder where = new StringBuilder();
            for (int k = 0; k < flips; k++) {
                int at = random.nextInt(10) < 8 ? random.nextInt((int) header) : random.nextInt(b.length);
                int bit = random.nextInt(8);
                b[at] ^= (byte) (1 << bit);
                where.append(at).append('.').append(bit).append(' ');
            }
            return new Mutant(b, "bitflip", "bits flipped at " + where.toString().trim());
        }
        if (roll < 88) {
            int length = random.nextInt(10) < 7 ? random.nextInt((int) header + 64) : random.nextInt(b.length);
            return new Mutant(Arrays.copyOf(b, length), "truncate", "truncated to " + length + " bytes");
        }
        // A run of random bytes in the header, which garbles whatever structure it lands on.
        int at = random.nextInt((int) header);
        int length = 1 + random.nextInt(16);
        for (int k = at; k < Math.min(b.length, at + length); k++) {
            b[k] = (byte) random.nextInt(256);
        }
        return new Mutant(b, "garble", length + " random bytes at " + at);
    }

    /** A value near a boundary of a {@code width}-byte field, or near the field's current value. */
    private static long boundary(long current, int width, SplittableRandom random) {
        long[] candidates = {0, 1, 2, 3, -1, current + 1, current - 1, current * 2, current << 16, 1L << 24,
                (1L << 24) + 1, Integer.MAX_VALUE, 1L << 31, 0xFFFF_FFFFL, 1L << 32, Long.MAX_VALUE, Long.MIN_VALUE,
                1_703_570_710, 2_047_620_241, random.nextLong()};
        long v = candidates[random.nextInt(candidates.length)];
        return width == 8 ? v : v & ((1L << (8 * width)) - 1);
    }

    private static long read(byte[] b, GgufFieldMap.Field f) {
        long v = 0;
        for (int k = f.width() - 1; k >= 0; k--) {
            v = (v << 8) | (b[(int) f.offset() + k] & 0xFF);
        }
        return v;
    }

    private static void write(byte[] b, GgufFieldMap.Field f, long value) {
        for (int k = 0; k < f.width(); k++) {
            b[(int) f.offset() + k] = (byte) (value >>> (8 * k));
        }
    }
}
