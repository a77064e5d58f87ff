package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.chat.ChatTemplate;
import dev.continuum.tokenizer.ByteLevelTokenizer;
import dev.continuum.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded random and mutated request bodies through the request parsers as the routes call them (JSON, then
 * {@link JsonFields}, {@link GenerationParams#parse}, {@link PromptParser}), in process: every body gives a parsed
 * request or an {@link ApiException} (malformed JSON included, read strictly as the routes read it by {@link JsonBody});
 * never another exception, which would reach the client as a 500.
 */
class RequestParsingFuzzTest {
    private static final long SEED = 17;
    private static final int BODIES = 4000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Tokenizer TOKENIZER = new ByteLevelTokenizer(1000);
    private static final ChatTemplate TEMPLATE = ChatTemplate.of(null, "<s>", "</s>");

    private static final List<String> SEEDS = List.of(
            "{\"model\":\"m\",\"prompt\":\"Once upon a time\",\"max_tokens\":16,\"temperature\":0.7,\"top_p\":0.9,"
                    + "\"top_k\":40,\"min_p\":0.05,\"seed\":42,\"n\":2,\"stop\":[\"\\n\",\"end\"],\"stream\":true,"
                    + "\"stream_options\":{\"include_usage\":true},\"logprobs\":3,\"echo\":true,\"ignore_eos\":false,"
                    + "\"presence_penalty\":0.5,\"frequency_penalty\":-0.5,\"repetition_penalty\":1.1,\"user\":\"u\"}",
            "{\"prompt\":[[1,2,3],[4,5]],\"max_tokens\":1}",
            "{\"prompt\":[\"a\",\"b\"],\"stop\":\"x\"}",
            "{\"prompt\":[7,8,9]}",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\","
                    + "\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}],\"max_completion_tokens\":8,"
                    + "\"logprobs\":true,\"top_logprobs\":2,\"temperature\":0}",
            "{\"messages\":[{\"role\":\"developer\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":null}],"
                    + "\"max_tokens\":4,\"stream\":false}");

    private static final String[] VALUES = {"0", "-1", "1", "2", "20", "21", "1e400", "-1e400", "1.5", "NaN",
            "9223372036854775807", "9223372036854775808", "-9223372036854775809", "2147483648", "1e308", "0.0",
            "true", "false", "null", "\"\"", "\"x\"", "[]", "[[]]", "[null]", "[1.5]", "[-1]", "[1000]",
            "[\"\"]", "{}", "{\"type\":\"text\"}", "[{\"type\":\"image\"}]", "[{\"role\":\"user\"}]",
            "[{\"role\":7}]", "\"\\ud800\"", "[[1,\"a\"]]", "[\"a\",1]", "[[1],[]]"};

    private static final String[] FIELDS = {"model", "prompt", "messages", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "top_k", "min_p", "seed", "n", "stop", "stream", "stream_options", "logprobs",
            "top_logprobs", "echo", "ignore_eos", "presence_penalty", "frequency_penalty", "repetition_penalty",
            "user", "content", "role", "include_usage", "speculative"};

    @Test
    void everyBodyParsesOrIsRefusedWithAnApiException() {
        SplittableRandom random = new SplittableRandom(SEED);
        Map<String, Integer> outcomes = new TreeMap<>();
        for (int i = 0; i < BODIES; i++) {
            String body = mutate(SEEDS.get(random.nextInt(SEEDS.size())), random);
            boolean chat = random.nextBoolean();
            String outcome;
            try {
                outcome = parse(body, chat);
            } catch (ApiException e) {
                assertTrue(e.status() == 400 || e.status() == 404, "body " + i + ": status " + e.status());
                outcome = "ApiException " + e.status();
            } catch (RuntimeException e) {
                throw new AssertionError("body " + i + " (" + (chat ? "chat" : "completion") + "): " + body
                        + "\n  threw " + e, e);
            }
            outcomes.merge((chat ? "chat " : "completion ") + outcome, 1, Integer::sum);
        }
        System.out.println(BODIES + " request bodies (seed " + SEED + "): " + outcomes);
        assertTrue(outcomes.keySet().stream().anyMatch(k -> k.endsWith("parsed")), outcomes::toString);
        assertTrue(outcomes.keySet().stream().anyMatch(k -> k.contains("ApiException")), outcomes::toString);
    }

    /** What the routes do with a body before anything is queued. */
    private static String parse(String body, boolean chat) {
        // As the routes read a body: strictly (invalid UTF-8, trailing data, duplicate keys are ApiExceptions too).
        JsonNode node = JsonBody.parse(body.getBytes(java.nio.charset.StandardCharsets.UTF_8), JSON);
        JsonFields fields = new JsonFields(node);
        GenerationParams params = GenerationParams.parse(fields, 8, chat, TOKENIZER.vocabSize());
        if (chat) {
            PromptParser.chat(fields, TOKENIZER, TEMPLATE);
        } else {
            PromptParser.completion(fields, TOKENIZER, params.echo());
        }
        return "parsed";
    }

    private static String mutate(String seed, SplittableRandom random) {
        String s = seed;
        for (int m = 1 + random.nextInt(3); m > 0; m--) {
            switch (random.nextInt(5)) {
                case 0 -> { // a field's value replaced by a boundary or wrongly typed one
                    String field = FIELDS[random.nextInt(FIELDS.length)];
                    String value = VALUES[random.nextInt(VALUES.length)];
                    int at = s.indexOf("\"" + field + "\":");
                    if (at >= 0) {
                        int start = at + field.length() + 3;
                        int end = valueEnd(s, start);
                        s = s.substring(0, start) + value + s.substring(end);
                    } else if (s.startsWith("{")) {
                        s = "{\"" + field + "\":" + value + (s.length() > 2 ? "," : "") + s.substring(1);
                    }
                }
                case 1 -> { // a character flipped
                    if (!s.isEmpty()) {
                        int at = random.nextInt(s.length());
                        s = s.substring(0, at) + (char) random.nextInt(128) + s.substring(at + 1);
                    }
                }
                case 2 -> s = s.substring(0, random.nextInt(s.length() + 1)); // truncated
                case 3 -> { // a field dropped
                    String field = FIELDS[random.nextInt(FIELDS.length)];
                    int at = s.indexOf("\"" + field + "\":");
                    if (at > 1) {
                        int end = valueEnd(s, at + field.length() + 3);
                        s = s.substring(0, at - 1) + s.substring(end);
                    }
                }
                default -> s = VALUES[random.nextInt(VALUES.length)]; // not an object at all
            }
        }
        return s;
    }

    /** Where the JSON value starting at {@code start} ends (a rough scan; mutants may be malformed anyway). */
    private static int valueEnd(String s, int start) {
        int depth = 0;
        boolean inString = false;
        for (int i = start; i < s.length(); i++) {
            char c = s.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '[' || c == '{') {
                depth++;
            } else if (c == ']' || c == '}') {
                if (depth == 0) {
                    return i;
                }
                depth--;
            } else if (c == ',' && depth == 0) {
                return i;
            }
        }
        return s.length();
    }
}
