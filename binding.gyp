# The native part of punt6's ring dataplane (src/dataplane/ring/ring.cc), built by node-gyp at
# `npm ci` into build/Release/punt6_ring.node. Node-API through node-addon-api: one build serves
# every Node.js version with Node-API 8, without a rebuild per version.
{
  "variables": { "asan%": 0 },
  "targets": [
    {
      "target_name": "punt6_ring",
      "sources": ["src/dataplane/ring/ring.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"],
      "conditions": [
        ["asan==1", {
          "cflags_cc": ["-fsanitize=address", "-fno-omit-frame-pointer", "-O1", "-g"],
          "ldflags": ["-fsanitize=address"]
        }]
      ]
    }
  ]
}
