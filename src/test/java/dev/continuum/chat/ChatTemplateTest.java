package dev.continuum.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Fallback format, error reporting and concurrent rendering of ChatTemplate. */
class ChatTemplateTest {

    private static final List<ChatMessage> CONVERSATION = List.of(
            new ChatMessage("system", "Be brief."),
            new ChatMessage("user", "Hi"),
            new ChatMessage("assistant", "Hello."),
            new ChatMessage("user", "Bye"));

    @Test
    void missingTemplateFallsBackToRoleColonLines() {
        ChatTemplate template = ChatTemplate.of(null, null, null);
        assertTrue(template.isFallback());
        assertEquals("system: Be brief.\nuser: Hi\nassistant: Hello.\nuser: Bye\nassistant:",
                template.render(CONVERSATION, true));
        assertEquals("user: Hi\n", template.render(List.of(new ChatMessage("user", "Hi")), false));
    }

    @Test
    void blankTemplateAlsoFallsBack() {
        assertTrue(ChatTemplate.of("  \n", "<s>", "</s>").isFallback());
        assertFalse(ChatTemplate.of("{{ bos_token }}", "<s>", "</s>").isFallback());
    }

    @Test
    void unclosedBlockFailsAtOfWithTheParserMessage() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{% for m in messages %}{{ m.content }}", "", ""));
        assertTrue(e.getMessage().startsWith("Chat template does not parse:"), e.getMessage());
        assertTrue(e.getMessage().contains("endfor"), e.getMessage());
    }

    @Test
    void malformedTagFailsAtOfOrFirstRender() {
        // Jinjava checks a tag's own syntax when it renders it, so this one surfaces at render.
        assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{% for %}{% endfor %}", "", "").render(CONVERSATION, true));
    }

    @Test
    void unknownFunctionFailsAtRenderWithClearMessage() {
        ChatTemplate template = ChatTemplate.of("{{ no_such_function('x') }}", "", "");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(CONVERSATION, true));
        assertTrue(e.getMessage().startsWith("Chat template failed:"), e.getMessage());
        assertTrue(e.getMessage().contains("no_such_function"), e.getMessage());
    }

    @Test
    void raiseExceptionMessageIsReportedVerbatim() {
        ChatTemplate template = ChatTemplate.of(
                "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}",
                "", "");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(CONVERSATION, true));
        assertEquals("System role not supported", e.getMessage());
        assertEquals("", template.render(CONVERSATION.subList(1, 2), true));
    }

    @Test
    void hugeRangeDoesNotHang() {
        ChatTemplate template = ChatTemplate.of("{% for i in range(1000000000) %}x{% endfor %}", "", "");
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try {
                template.render(CONVERSATION, true);
            } catch (ChatTemplateException expected) {
                // failing is fine; hanging is not
            }
        });
    }

    @Test
    void nullContentRendersAsEmpty() {
        ChatTemplate template = ChatTemplate.of("{% for m in messages %}[{{ m.content }}]{% endfor %}", "", "");
        assertEquals("[]", template.render(List.of(new ChatMessage("assistant", null)), false));
    }

    @Test
    void trailingNewlineOfTemplateIsDroppedLikeJinja() {
        assertEquals("x", ChatTemplate.of("x\n", "", "").render(CONVERSATION, false));
    }

    @Test
    void rendersConcurrentlyWithoutCrossTalk() throws Exception {
        ChatTemplate template = ChatTemplate.of(RealTemplatesTest.LLAMA_2, "<s>", "</s>");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String question = "question " + i;
                results.add(pool.submit(() -> template.render(List.of(new ChatMessage("user", question)), true)
                        .equals("<s>[INST] " + question + " [/INST]")));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
