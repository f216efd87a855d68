# node-gyp build of the same sources as CMakeLists.txt (npm run build:gyp -> build/Release).
# LibTorch's location comes from scripts/libtorch.mjs, exactly as for the cmake-js build.
{
  "targets": [
    {
      "target_name": "slice_distill",
      "sources": [
        "<!@(node -e \"const fs=require('fs');for (const d of ['native/binding','native/ops','native/train','native/distributed','native/memory']) if (fs.existsSync(d)) for (const f of fs.readdirSync(d)) if (f.endsWith('.cc')) console.log(d+'/'+f)\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native",
        "<!@(node scripts/libtorch.mjs --get include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GLIBCXX_USE_CXX11_ABI=1"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=c++17"],
      # -fopenmp where LibTorch uses OpenMP (at::parallel_for splits work only in code compiled with it)
      "cflags_cc": ["-std=c++20", "-fexceptions", "-frtti", "-Wno-unused-parameter",
                    "<!@(node -p \"require('child_process').execSync('node scripts/libtorch.mjs --get openmpRuntime',{encoding:'utf8'}).trim()?'-fopenmp':''\")"],
      "libraries": [
        "-L<!(node scripts/libtorch.mjs --get libDir)",
        "-Wl,-rpath,<!(node scripts/libtorch.mjs --get libDir)",
        "<!@(node -e \"const l=JSON.parse(require('child_process').execSync('node scripts/libtorch.mjs',{encoding:'utf8'}));console.log(l.cuda?'-Wl,--no-as-needed -ltorch_cuda -Wl,--as-needed':'')\")",
        "-ltorch", "-ltorch_cpu", "-lc10", "-ldl",
        "<!@(node scripts/libtorch.mjs --get openmpRuntime)"
      ],
      "conditions": [
        # Data-parallel training where Debian's libgloo-dev put the gloo headers (as CMakeLists.txt;
        # NCCL is built by the CMake build only).
        ["'<!(node -p \"require('fs').existsSync('/usr/include/gloo/config.h')\")'=='true'", {
          "defines": ["SD_WITH_DISTRIBUTED=1", "USE_C10D_GLOO=1"]
        }],
        # A CUDA LibTorch: the toolkit, nvrtc's folder and the architectures come from
        # scripts/cuda-toolkit.mjs, as for CMake (evaluated only in this branch). node-gyp knows
        # no CUDA, so a rule compiles the .cu with nvcc (C++17) and links the object.
        ["'<!(node scripts/libtorch.mjs --get cuda)'=='true'", {
          "defines": ["SLICE_DISTILL_CUDA=1", "SD_WITH_CUDA=1"],
          "include_dirs": ["<!(node scripts/cuda-toolkit.mjs --get include)"],
          "sources": ["native/ops/proto_kernels.cu"],
          "rules": [
            {
              "rule_name": "nvcc",
              "extension": "cu",
              "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).cu.o"],
              "action": [
                "<!(node scripts/cuda-toolkit.mjs --get nvcc)", "-std=c++17", "-O3", "-Xcompiler", "-fPIC",
                "--expt-relaxed-constexpr", "-I", "native", "<!@(node scripts/cuda-toolkit.mjs --get gencode)",
                "-c", "<(RULE_INPUT_PATH)", "-o", "<@(_outputs)"
              ],
              "message": "nvcc <(RULE_INPUT_PATH)",
              "process_outputs_as_sources": 1
            }
          ],
          "libraries": [
            "-lc10_cuda",
            "<!(node scripts/cuda-toolkit.mjs --get cudart)",
            "<!@(node scripts/cuda-toolkit.mjs --get rpathFlags)"
          ]
        }]
      ]
    }
  ]
}
