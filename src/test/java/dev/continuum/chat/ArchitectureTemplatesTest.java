package dev.continuum.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The published chat templates of the architectures Continuum computes (Llama 3.1 and 3.2, Qwen2.5, Qwen3, Gemma 2
 * and 3, Phi-3.5, Mistral Nemo; the files as llama.cpp's {@code models/templates} keeps them, fetched from the models'
 * tokenizer configs), rendered by the Jinja engine exactly as Python's jinja2 renders them the way transformers'
 * {@code apply_chat_template} does: {@code src/test/resources/chat/rendered.json}, made by
 * {@code render_reference.py} beside it. Conversations a template refuses raise its message.
 */
class ArchitectureTemplatesTest {
    /** The date {@code render_reference.py} pins {@code strftime_now} to. */
    private static final String PINNED_DATE = "03 Dec 2026";

    @ParameterizedTest
    @ValueSource(strings = {"llama-3.1-8b-instruct", "llama-3.2-3b-instruct", "qwen2.5-7b-instruct", "qwen3-0.6b",
            "gemma-2-2b-it", "gemma-3-4b-it", "phi-3.5-mini-instruct", "mistral-nemo-instruct-2407"})
    void rendersAsJinja2Does(String name) throws IOException {
        JsonNode rendered = rendered();
        JsonNode expected = rendered.get("templates").get(name);
        assertNotNull(expected, name);
        ChatTemplate template = ChatTemplate.of(resource("/chat/templates/" + name + ".jinja"),
                expected.get("bos").asText(), expected.get("eos").asText());
        int compared = 0;
        for (JsonNode c : expected.get("cases")) {
            List<ChatMessage> messages = messages(rendered.get("conversations").get(c.get("conversation").asText()));
            boolean generation = c.get("add_generation_prompt").asBoolean();
            String what = name + ", " + c.get("conversation").asText() + ", add_generation_prompt " + generation;
            if (c.has("error")) {
                ChatTemplateException e = assertThrows(ChatTemplateException.class,
                        () -> template.render(messages, generation), what);
                assertTrue(e.getMessage().contains(c.get("error").asText()), what + ": " + e.getMessage());
            } else {
                assertEquals(c.get("output").asText(), renderWithPinnedDate(template, messages, generation), what);
            }
            compared++;
        }
        assertEquals(10, compared);
    }

    /** Renders with today's date in place of the pinned one (again if the day turned while rendering). */
    private static String renderWithPinnedDate(ChatTemplate template, List<ChatMessage> messages, boolean generation) {
        while (true) {
            String before = TemplateFunctions.strftimeNow("%d %b %Y");
            String out = template.render(messages, generation);
            if (before.equals(TemplateFunctions.strftimeNow("%d %b %Y"))) {
                return out.replace(before, PINNED_DATE);
            }
        }
    }

    private static List<ChatMessage> messages(JsonNode conversation) {
        List<ChatMessage> out = new ArrayList<>();
        for (JsonNode m : conversation) {
            out.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        }
        return out;
    }

    private static JsonNode rendered() throws IOException {
        return new ObjectMapper().readTree(resource("/chat/rendered.json"));
    }

    private static String resource(String path) throws IOException {
        try (InputStream in = ArchitectureTemplatesTest.class.getResourceAsStream(path)) {
            assertNotNull(in, path);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
