package dev.continuum.chat;

import com.hubspot.jinjava.interpret.InterpretException;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.tree.Node;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A model's chat template (GGUF {@code tokenizer.chat_template}, Hugging Face Jinja2), parsed once and rendered per
 * request; safe to render from several threads at once.
 *
 * <p>Templates see what Hugging Face passes: {@code messages} (maps with {@code role} and {@code content}),
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, and the functions {@code raise_exception(msg)}
 * and {@code strftime_now(fmt)}. Common Python str methods ({@code strip}, {@code startswith}, {@code split}, ...) and
 * HF's {@code tojson} work; see {@link PythonStringMethods}. Known gaps against Python Jinja: booleans print as
 * {@code true} not {@code True}, no {@code '%s' % x} formatting, no slice steps other than {@code [::-1]}, no negative
 * string indexes, and {@code ~} binds as tightly as {@code +}.
 *
 * <p><b>Fallback</b>: a model without a template (null or blank) gets a plain format, one line per message,
 * {@code "<role>: <content>\n"}, then {@code "assistant:"} when a generation prompt is asked for. For example
 * system "Be brief." and user "Hi" render as {@code "system: Be brief.\nuser: Hi\nassistant:"}.
 */
public final class ChatTemplate {

    private static final String GENERATION_PROMPT_ROLE = "assistant";

    private final Node root; // null for the fallback format
    private final String bosToken;
    private final String eosToken;

    private ChatTemplate(Node root, String bosToken, String eosToken) {
        this.root = root;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
    }

    /** From the model's template text (may be null → the documented fallback), with the model's special token texts. */
    public static ChatTemplate of(String template, String bosToken, String eosToken) {
        String bos = Objects.requireNonNullElse(bosToken, "");
        String eos = Objects.requireNonNullElse(eosToken, "");
        if (template == null || template.isBlank()) {
            return new ChatTemplate(null, bos, eos);
        }
        return new ChatTemplate(parse(template), bos, eos);
    }

    /**
     * Renders the conversation; addGenerationPrompt=true appends the assistant header so the model answers. Throws
     * ChatTemplateException (a RuntimeException with a clear message) when the template fails or raises.
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Objects.requireNonNull(messages, "messages");
        return root == null ? renderFallback(messages, addGenerationPrompt) : renderJinja(messages, addGenerationPrompt);
    }

    /** True when the model had no template and the plain fallback format is used. */
    public boolean isFallback() {
        return root == null;
    }

    private static Node parse(String template) {
        // Jinja (keep_trailing_newline=False) drops one trailing newline of the source; many templates end with one.
        String source = KeywordArgumentRewrite.rewrite(PythonSliceRewrite.rewrite(
                template.endsWith("\n") ? template.substring(0, template.length() - 1) : template));
        JinjavaInterpreter interpreter = JinjaEnvironment.INSTANCE.newInterpreter(Map.of());
        Node root;
        try {
            root = interpreter.parse(source);
        } catch (InterpretException e) {
            throw new ChatTemplateException("Chat template does not parse: " + e.getMessage(), e);
        }
        firstFatal(interpreter).ifPresent(error -> {
            throw new ChatTemplateException("Chat template does not parse: " + describe(error));
        });
        return root;
    }

    private String renderJinja(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Map<String, Object> bindings = new HashMap<>();
        bindings.put("messages", toTemplateMessages(messages));
        bindings.put("add_generation_prompt", addGenerationPrompt);
        bindings.put("bos_token", bosToken);
        bindings.put("eos_token", eosToken);
        JinjavaInterpreter interpreter = JinjaEnvironment.INSTANCE.newInterpreter(bindings);
        String output;
        JinjavaInterpreter.pushCurrent(interpreter);
        try {
            output = interpreter.render(root, false);
        } catch (TemplateRaisedException e) {
            throw new ChatTemplateException(e.getMessage());
        } catch (RuntimeException e) {
            throw raisedBy(e).orElseGet(() -> new ChatTemplateException("Chat template failed: " + e.getMessage(), e));
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        firstFatal(interpreter).ifPresent(error -> {
            throw raisedBy(error.getException())
                    .orElseGet(() -> new ChatTemplateException("Chat template failed: " + describe(error)));
        });
        return output;
    }

    /** Maps, not records: templates index them Python-style, message['content'] as well as message.content. */
    private static List<Map<String, Object>> toTemplateMessages(List<ChatMessage> messages) {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (ChatMessage message : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", message.role());
            map.put("content", message.content());
            out.add(map);
        }
        return out;
    }

    private static String renderFallback(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder();
        for (ChatMessage message : messages) {
            out.append(message.role()).append(": ").append(Objects.requireNonNullElse(message.content(), ""))
                    .append('\n');
        }
        if (addGenerationPrompt) {
            out.append(GENERATION_PROMPT_ROLE).append(':');
        }
        return out.toString();
    }

    private static Optional<TemplateError> firstFatal(JinjavaInterpreter interpreter) {
        return interpreter.getErrorsCopy().stream()
                .filter(error -> error.getSeverity() == TemplateError.ErrorType.FATAL)
                .findFirst();
    }

    /** raise_exception's message reaches us wrapped in EL and Jinjava exceptions; dig it out to report it verbatim. */
    private static Optional<ChatTemplateException> raisedBy(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof TemplateRaisedException raised) {
                return Optional.of(new ChatTemplateException(raised.getMessage()));
            }
        }
        return Optional.empty();
    }

    private static String describe(TemplateError error) {
        return error.getMessage() + (error.getLineno() > 0 ? " (line " + error.getLineno() + ")" : "");
    }
}
