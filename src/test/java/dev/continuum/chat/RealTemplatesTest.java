package dev.continuum.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Published Hugging Face chat templates, rendered exactly as transformers' apply_chat_template renders them. */
class RealTemplatesTest {

    private static final List<ChatMessage> CONVERSATION = List.of(
            new ChatMessage("system", "You are helpful."),
            new ChatMessage("user", "Hello"),
            new ChatMessage("assistant", "Hi there!"),
            new ChatMessage("user", "How are you?"));

    /** Qwen2-Instruct's ChatML template, which adds a default system prompt when none is given. */
    static final String CHATML = """
            {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}\
            {{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}\
            {{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}\
            {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}""";

    /** Llama-2-chat: system folded into the first [INST] between <<SYS>> markers, strict alternation enforced. */
    static final String LLAMA_2 = """
            {% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}\
            {% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}\
            {% set system_message = false %}{% endif %}{% for message in loop_messages %}\
            {% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\
            {{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}\
            {% if loop.index0 == 0 and system_message != false %}\
            {% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}\
            {% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}\
            {{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}\
            {{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}""";

    /** Meta-Llama-3-8B-Instruct. */
    static final String LLAMA_3 = """
            {% set loop_messages = messages %}{% for message in loop_messages %}\
            {% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ \
            message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}\
            {% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}\
            {% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}""";

    /** Mistral-7B-Instruct-v0.1: user/assistant only, anything else raises. */
    static final String MISTRAL_V01 = """
            {{ bos_token }}{% for message in messages %}\
            {% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\
            {{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}\
            {% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}\
            {% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}\
            {% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}""";

    /** Later Mistral instruct template: multi-line with {%- -%}, `is defined`, selectattr, system in the last [INST]. */
    static final String MISTRAL_V03 = """
            {%- if messages[0]["role"] == "system" %}
                {%- set system_message = messages[0]["content"] %}
                {%- set loop_messages = messages[1:] %}
            {%- else %}
                {%- set loop_messages = messages %}
            {%- endif %}
            {%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

            {%- for message in loop_messages %}
                {%- if (message["role"] == "user") != (loop.index0 % 2 == 0) %}
                    {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
                {%- endif %}
            {%- endfor %}

            {{- bos_token }}
            {%- for message in loop_messages %}
                {%- if message["role"] == "user" %}
                    {%- if loop.last and system_message is defined %}
                        {{- "[INST] " + system_message + "\\n\\n" + message["content"] + "[/INST]" }}
                    {%- else %}
                        {{- "[INST] " + message["content"] + "[/INST]" }}
                    {%- endif %}
                {%- elif message["role"] == "assistant" %}
                    {{- " " + message["content"] + eos_token}}
                {%- else %}
                    {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
                {%- endif %}
            {%- endfor %}
            """;

    /** zephyr-7b-beta: relies on trim_blocks, and keeps the newline after each {{ }} line. */
    static final String ZEPHYR = """
            {% for message in messages %}
            {% if message['role'] == 'user' %}
            {{ '<|user|>
            ' + message['content'] + eos_token }}
            {% elif message['role'] == 'system' %}
            {{ '<|system|>
            ' + message['content'] + eos_token }}
            {% elif message['role'] == 'assistant' %}
            {{ '<|assistant|>
            '  + message['content'] + eos_token }}
            {% endif %}
            {% if loop.last and add_generation_prompt %}
            {{ '<|assistant|>' }}
            {% endif %}
            {% endfor %}""";

    @Test
    void chatMlRendersEachTurnBetweenImMarkers() {
        ChatTemplate template = ChatTemplate.of(CHATML, "", "<|im_end|>");
        assertFalse(template.isFallback());
        assertEquals("""
                <|im_start|>system
                You are helpful.<|im_end|>
                <|im_start|>user
                Hello<|im_end|>
                <|im_start|>assistant
                Hi there!<|im_end|>
                <|im_start|>user
                How are you?<|im_end|>
                <|im_start|>assistant
                """, template.render(CONVERSATION, true));
    }

    @Test
    void chatMlAddsDefaultSystemPromptAndOmitsHeaderWithoutGenerationPrompt() {
        ChatTemplate template = ChatTemplate.of(CHATML, "", "<|im_end|>");
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n",
                template.render(List.of(new ChatMessage("user", "Hello")), false));
    }

    @Test
    void llama2FoldsSystemIntoFirstInstructionAndStripsContent() {
        ChatTemplate template = ChatTemplate.of(LLAMA_2, "<s>", "</s>");
        List<ChatMessage> padded = List.of(
                new ChatMessage("system", "You are helpful."),
                new ChatMessage("user", "Hello\n"),
                new ChatMessage("assistant", " Hi there! "),
                new ChatMessage("user", "\tHow are you?  "));
        assertEquals("<s>[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHello [/INST] Hi there! </s>"
                + "<s>[INST] How are you? [/INST]", template.render(padded, true));
    }

    @Test
    void llama2RaisesOnNonAlternatingRoles() {
        ChatTemplate template = ChatTemplate.of(LLAMA_2, "<s>", "</s>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(
                List.of(new ChatMessage("user", "a"), new ChatMessage("user", "b")), true));
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void llama3WrapsTurnsInHeadersAndTrimsContent() {
        ChatTemplate template = ChatTemplate.of(LLAMA_3, "<|begin_of_text|>", "<|end_of_text|>");
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", template.render(CONVERSATION, true));
    }

    @Test
    void mistralV01RendersUserAssistantTurns() {
        ChatTemplate template = ChatTemplate.of(MISTRAL_V01, "<s>", "</s>");
        assertEquals("<s>[INST] Hello [/INST]Hi there!</s>[INST] How are you? [/INST]",
                template.render(CONVERSATION.subList(1, 4), true));
    }

    @Test
    void mistralV01RaisesOnSystemMessage() {
        ChatTemplate template = ChatTemplate.of(MISTRAL_V01, "<s>", "</s>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(CONVERSATION, true));
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void mistralV03PutsSystemPromptIntoLastInstruction() {
        ChatTemplate template = ChatTemplate.of(MISTRAL_V03, "<s>", "</s>");
        assertEquals("<s>[INST] Hello[/INST] Hi there!</s>[INST] You are helpful.\n\nHow are you?[/INST]",
                template.render(CONVERSATION, true));
    }

    @Test
    void mistralV03RaisesOnUnknownRole() {
        ChatTemplate template = ChatTemplate.of(MISTRAL_V03, "<s>", "</s>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(List.of(
                new ChatMessage("user", "a"), new ChatMessage("tool", "b")), true));
        assertEquals("Only user and assistant roles are supported, with the exception of an initial optional "
                + "system message!", e.getMessage());
    }

    @Test
    void mistralV03RaisesOnNonAlternatingRoles() {
        ChatTemplate template = ChatTemplate.of(MISTRAL_V03, "<s>", "</s>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(List.of(
                new ChatMessage("system", "s"), new ChatMessage("assistant", "a")), true));
        assertEquals("After the optional system message, conversation roles must alternate "
                + "user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void zephyrKeepsNewlineAfterEachTurn() {
        ChatTemplate template = ChatTemplate.of(ZEPHYR, "<s>", "</s>");
        assertEquals("""
                <|system|>
                You are helpful.</s>
                <|user|>
                Hello</s>
                <|assistant|>
                Hi there!</s>
                <|user|>
                How are you?</s>
                <|assistant|>
                """, template.render(CONVERSATION, true));
    }
}
