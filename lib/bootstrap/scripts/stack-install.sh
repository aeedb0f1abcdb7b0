# shellcheck shell=bash
# shellcheck disable=SC2154  # the pinned versions and CUDA_ARCH come from the caller's settings (cluster.env, rehearsal.env)
#
# How the pinned stack is installed and LMCache is built: one copy, used by the node bootstrap's background jobs
# (asset-steps.sh) and by the GPU rehearsal (rehearse.sh), so a rehearsal runs exactly the node's commands. The caller
# defines say and fail.
#
# WHEELHOUSE empty: packages come from PyPI. Otherwise it names a folder made by `npm run wheelhouse` (the pinned
# wheels, their dependencies the target lacks, LMCache's sdist and its build requirements), and nothing is fetched:
# uv runs --offline --no-index, pip --no-index.

# Sets UV_SOURCE and PIP_SOURCE, the package-source arguments of uv and pip.
stack_sources() {
  UV_SOURCE=()
  PIP_SOURCE=()
  [ -n "${WHEELHOUSE:-}" ] || return 0
  [ -d "$WHEELHOUSE" ] || fail "the wheelhouse $WHEELHOUSE is not a folder (make one with: npm run wheelhouse)"
  UV_SOURCE=(--offline --no-index --find-links "$WHEELHOUSE")
  PIP_SOURCE=(--no-index --find-links "$WHEELHOUSE")
}

# stack_install_torch <venv python> <1: also LMCache's build requirements, 0: not>: what must be there before
# LMCache can be built against the torch the engines will use.
stack_install_torch() {
  local py=$1 first=("torch==$TORCH_VERSION") reqs=()
  if [ "$2" = 1 ]; then
    # LMCache's own [build-system] requires (its pyproject.toml), torch aside: --no-build-isolation does not
    # install them, and without grpcio-tools its build_py step cannot generate its gRPC stubs.
    read -ra reqs <<<"$LMCACHE_BUILD_REQUIRES"
    first+=("${reqs[@]}")
  fi
  stack_sources
  uv pip install --python "$py" "${UV_SOURCE[@]}" "${first[@]}"
}

# stack_install_rest <venv python>: Ray with its Serve and LLM extras, vLLM and NIXL; torch pinned again, so the
# resolver can never swap the torch LMCache is being built against.
stack_install_rest() {
  stack_sources
  uv pip install --python "$1" "${UV_SOURCE[@]}" "ray[serve,llm]==$RAY_VERSION" "vllm==$VLLM_VERSION" \
    "nixl==$NIXL_VERSION" "torch==$TORCH_VERSION"
}

# Sets TORCH_CUDA (e.g. 13.0) and TORCH_CUDA_MAJOR from the venv's torch; fails for a CUDA LMCache cannot build for.
torch_cuda_of() {
  TORCH_CUDA=$("$1" -c 'import torch; print(torch.version.cuda or "")' </dev/null)
  TORCH_CUDA_MAJOR=${TORCH_CUDA%%.*}
  # LMCache picks its CUDA-specific requirements (cuda12_core.txt or cuda13_core.txt) from LMCACHE_CUDA_MAJOR,
  # 13 unless set (LMCache setup_extensions/build_profiles/cuda.py, _cuda_major): it must follow torch's CUDA.
  case $TORCH_CUDA_MAJOR in
    12 | 13) ;;
    *) fail "vLLM's torch reports CUDA '${TORCH_CUDA}': LMCache $LMCACHE_VERSION builds for CUDA 12 or 13 (LMCACHE_CUDA_MAJOR)" ;;
  esac
}

# lmcache_build <venv python> <wheel folder> <CUDA arch, e.g. 9.0>: LMCache from its sdist, compiled against the
# venv's torch for that GPU architecture only (its prebuilt wheels carry kernels built against another torch). Needs
# torch_cuda_of first. The compiled module is lmcache.cuda_ops (setup_extensions/build_profiles/cuda.py).
lmcache_build() {
  local py=$1 wheels=$2 arch=$3 cuda_home=/usr/local/cuda
  # torch refuses to build an extension with a CUDA toolkit of another major version than its own, and a DLAMI
  # carries several: take the one matching the installed torch when it is there.
  if [ -d "/usr/local/cuda-$TORCH_CUDA" ]; then cuda_home="/usr/local/cuda-$TORCH_CUDA"; fi
  rm -rf "$wheels"
  stack_sources
  say "building lmcache $LMCACHE_VERSION for sm_$arch against torch's CUDA $TORCH_CUDA ($cuda_home, LMCACHE_CUDA_MAJOR=$TORCH_CUDA_MAJOR) on $(nproc) cores${WHEELHOUSE:+, sdist from $WHEELHOUSE}"
  LMCACHE_CUDA_MAJOR="$TORCH_CUDA_MAJOR" TORCH_CUDA_ARCH_LIST="$arch" CUDA_HOME="$cuda_home" PATH="$cuda_home/bin:$PATH" \
    MAX_JOBS="$(nproc)" "$py" -m pip wheel -q "${PIP_SOURCE[@]}" --no-build-isolation --no-deps --no-binary lmcache \
    -w "$wheels" "lmcache==$LMCACHE_VERSION"
}

# lmcache_install <venv python> <wheel folder>: the built wheel and its runtime requirements. Run after the rest of
# the stack: one installer at a time in a venv.
lmcache_install() {
  stack_sources
  uv pip install --python "$1" "${UV_SOURCE[@]}" "$2"/lmcache-*.whl
}
