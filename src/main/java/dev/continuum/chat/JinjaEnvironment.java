package dev.continuum.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.Map;
import jinjava.javax.el.CompositeELResolver;

/** The one Jinjava instance, configured like Hugging Face's sandboxed Jinja environment for chat templates. */
final class JinjaEnvironment {

    /** Far above any real prompt; stops a runaway template from filling the heap. */
    private static final long MAX_OUTPUT_CHARS = 64L * 1024 * 1024;

    /**
     * Jinja's behaviour where Jinjava keeps a legacy one: {{- -}} trimming, natural operator precedence, iterating a
     * dict yields its keys, backslash escapes only inside quotes, Python-like printing of lists. Picked one by one:
     * LegacyOverrides.ALL in 2.8.4 stops recognising {{ }} inside loops.
     */
    private static final LegacyOverrides JINJA_SEMANTICS = LegacyOverrides.newBuilder()
            .withUseTrimmingForNotesAndExpressions(true)
            .withParseWhitespaceControlStrictly(true)
            .withUseNaturalOperatorPrecedence(true)
            .withIterateOverMapKeys(true)
            .withEvaluateMapKeys(true)
            .withHandleBackslashInQuotesOnly(true)
            .withKeepNullableLoopValues(true)
            .withUsePyishObjectMapper(true)
            .build();

    static final JinjaEnvironment INSTANCE = new JinjaEnvironment();

    private final Jinjava jinjava;
    private final JinjavaConfig config;

    private JinjaEnvironment() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        // HF compiles with trim_blocks and lstrip_blocks; templates are written against that whitespace behaviour.
        config = JinjavaConfig.newBuilder()
                .withLegacyOverrides(JINJA_SEMANTICS)
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withKeepTrailingNewline(true) // ChatTemplate drops the source's trailing newline itself, as Jinja does
                .withElResolver(resolver)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withEnableRecursiveMacroCalls(false)
                .build();
        jinjava = new Jinjava(config);
        Context globals = jinjava.getGlobalContext();
        globals.registerFunction(new ELFunctionDefinition("", "raise_exception", TemplateFunctions.class,
                "raiseException", String.class));
        globals.registerFunction(new ELFunctionDefinition("", "strftime_now", TemplateFunctions.class,
                "strftimeNow", String.class));
        globals.registerFilter(new PythonJsonFilter());
        // In Python they are globals, so "strftime_now is defined" holds: Llama 3.2 stamps today's date only then.
        globals.put("raise_exception", true);
        globals.put("strftime_now", true);
    }

    /** A fresh interpreter per parse or render: interpreters carry per-render state and are not thread-safe. */
    JinjavaInterpreter newInterpreter(Map<String, ?> bindings) {
        Context context = new Context(jinjava.getGlobalContextCopy(), bindings, config.getDisabled());
        return config.getInterpreterFactory().newInstance(jinjava, context, config);
    }
}
