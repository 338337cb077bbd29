package io.innerq.vulkan.build;


import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.lwjgl.util.shaderc.Shaderc.*;

/**
 * Build step: compiles every {@code *.comp} GLSL compute shader of a folder to SPIR-V ({@code NAME.spv}) with LWJGL's
 * shaderc, so no system compiler is needed. {@code #include "file.glsl"} is resolved here, relative to the folder.
 * Shapes, bit widths and modes are specialization constants: one module serves every variant, except where a variant
 * needs a device feature that the others must not declare: a line {@code // variant: SUFFIX = MACRO} in a shader
 * also builds {@code NAME_SUFFIX.spv} with {@code #define MACRO 1} after the {@code #version} line.
 *
 * <p>Usage: {@code ShaderCompiler <glsl folder> <output folder>}.
 */
public final class ShaderCompiler {

    private static final Pattern INCLUDE = Pattern.compile("^#include \"([\\w.]+)\"\\s*$", Pattern.MULTILINE);
    /** {@code // variant: SUFFIX = MACRO}: a further module built with MACRO defined. */
    private static final Pattern VARIANT = Pattern.compile("^// variant: (\\w+) = (\\w+)\\s*$", Pattern.MULTILINE);

    private ShaderCompiler() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: ShaderCompiler <glsl folder> <output folder>");
        }
        Path source = Path.of(args[0]);
        Path target = Path.of(args[1]);
        Files.createDirectories(target);
        List<Path> shaders;
        try (var files = Files.list(source)) {
            shaders = files.filter(p -> p.toString().endsWith(".comp")).sorted().toList();
        }
        long compiler = shaderc_compiler_initialize();
        long options = shaderc_compile_options_initialize();
        try {
            shaderc_compile_options_set_target_env(options, shaderc_target_env_vulkan, shaderc_env_version_vulkan_1_2);
            shaderc_compile_options_set_optimization_level(options, shaderc_optimization_level_performance);
            shaderc_compile_options_set_warnings_as_errors(options);
            int failed = 0;
            int modules = 0;
            for (Path shader : shaders) {
                String name = shader.getFileName().toString().replace(".comp", "");
                String glsl = expand(shader, new HashSet<>());
                failed += compile(compiler, options, shader, glsl, target.resolve(name + ".spv"));
                modules++;
                Matcher variant = VARIANT.matcher(glsl);
                while (variant.find()) {
                    String defined = glsl.replaceFirst("(?m)^(#version .*)$", "$1\n#define " + variant.group(2) + " 1");
                    failed += compile(compiler, options, shader, defined, target.resolve(name + "_" + variant.group(1) + ".spv"));
                    modules++;
                }
            }
            if (failed > 0) {
                throw new IllegalStateException(failed + " shader(s) failed to compile; see the messages above");
            }
            System.out.printf("compiled %d shaders (%d modules) to %s%n", shaders.size(), modules, target);
        } finally {
            shaderc_compile_options_release(options);
            shaderc_compiler_release(compiler);
        }
    }

    /** Compiles one module; 1 when it failed (the message printed), else 0. */
    private static int compile(long compiler, long options, Path shader, String glsl, Path out) throws IOException {
        long result = shaderc_compile_into_spv(compiler, glsl, shaderc_glsl_compute_shader, shader.getFileName().toString(), "main", options);
        try {
            if (shaderc_result_get_compilation_status(result) != shaderc_compilation_status_success) {
                System.err.println(out.getFileName() + " (" + shader + "): " + shaderc_result_get_error_message(result));
                return 1;
            }
            ByteBuffer spv = shaderc_result_get_bytes(result);
            try (FileChannel channel = FileChannel.open(out,
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                while (spv.hasRemaining()) {
                    channel.write(spv);
                }
            }
            return 0;
        } finally {
            shaderc_result_release(result);
        }
    }

    /** The shader's text with its includes inlined (each file once), and #line directives for messages. */
    static String expand(Path file, Set<Path> seen) {
        if (!seen.add(file.toAbsolutePath().normalize())) {
            return "";
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read shader source " + file, e);
        }
        Matcher m = INCLUDE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Path included = file.resolveSibling(m.group(1));
            if (!Files.exists(included)) {
                throw new IllegalArgumentException(file + ": included file " + m.group(1) + " not found");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(expand(included, seen)));
        }
        m.appendTail(out);
        return out.toString();
    }
}
