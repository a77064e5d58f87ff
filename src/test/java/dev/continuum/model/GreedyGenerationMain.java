package dev.continuum.model;

import dev.continuum.engine.SingleStreamGenerator;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.VectorSupport;
import dev.continuum.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Greedy completions of reference prompts, printed for a parent test to compare: run in a child JVM (see
 * {@link VectorlessForwardPassTest}) it shows what that JVM's kernels generate. Arguments are triples of model
 * file, tokenizer file ({@code -} for none) and reference JSONL; output is the gate's decision, whether the Vector
 * API module is in the boot layer, and one {@code case} line of completion ids per reference prompt.
 */
final class GreedyGenerationMain {
    private GreedyGenerationMain() {
    }

    public static void main(String[] args) throws IOException {
        System.out.println("gate " + VectorSupport.describe());
        System.out.println("module " + (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                ? "present" : "absent"));
        try (ComputePool pool = new ComputePool(2)) {
            for (int i = 0; i + 2 < args.length; i += 3) {
                Path model = Path.of(args[i]);
                Path tokenizer = args[i + 1].equals("-") ? null : Path.of(args[i + 1]);
                List<ReferenceCompletions> refs = ReferenceCompletions.read(Path.of(args[i + 2]));
                for (int c = 0; c < refs.size(); c++) {
                    int[] ids = generate(model, tokenizer, refs.get(c), pool);
                    System.out.println("case " + model.getFileName() + " " + c + " " + join(ids));
                }
            }
        }
    }

    /** The greedy completion of {@code ref}'s prompt (after BOS), as long as the reference's. */
    static int[] generate(Path model, Path tokenizer, ReferenceCompletions ref, ComputePool pool) throws IOException {
        try (LoadedModel m = ModelLoader.load(model.toString(), tokenizer)) {
            Tokenizer tok = m.tokenizer();
            int[] prompt = promptIds(tok, ref.prompt());
            List<Integer> got = new ArrayList<>();
            new SingleStreamGenerator(new CpuModelRunner(m.config(), m.weights(), pool), tok.eosId())
                    .generate(prompt, ref.completionIds().length, SamplingParams.GREEDY, false, got::add);
            return got.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    /** A reference prompt as the references tokenized it: BOS, then the text without special tokens. */
    static int[] promptIds(Tokenizer tok, String text) {
        int[] body = tok.encode(text, false);
        int[] prompt = new int[body.length + 1];
        prompt[0] = tok.bosId();
        System.arraycopy(body, 0, prompt, 1, body.length);
        return prompt;
    }

    static String join(int[] ids) {
        return java.util.Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
