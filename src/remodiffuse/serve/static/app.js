// The demo page: send the form to POST /generate, follow GET /progress, play the BVH in 3D.
import * as THREE from "three";
import { BVHLoader } from "three/addons/loaders/BVHLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

const METRES_PER_UNIT = 0.01; // the server's BVH files are in centimetres
const JOINT_RADIUS = 3.5; // centimetres
const GRID_SIZE = 6; // metres: the grid stays in front of the camera (lines that pass behind it
// render wrongly in headless Chromium's software GL); it follows the body
const GRID_CELL = 0.5; // metres
const PROGRESS_POLL_MS = 250;
const FILE_LABELS = { bvh: "BVH", "features.npy": "features .npy", "joints.npy": "joints .npy" };

const byId = (id) => document.getElementById(id);

// One BVH motion at a time on a ground grid: joints as spheres, bones by SkeletonHelper.
class MotionViewer {
  constructor(canvas, onTime) {
    this.canvas = canvas;
    this.onTime = onTime;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(window.devicePixelRatio);
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0xf4f4f1);
    this.grid = new THREE.GridHelper(GRID_SIZE, GRID_SIZE / GRID_CELL, 0x777777, 0xbbbbbb);
    this.scene.add(this.grid);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x999999, 2.5));
    const sun = new THREE.DirectionalLight(0xffffff, 1.5);
    sun.position.set(3, 6, 4);
    this.scene.add(sun);
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.05, 200);
    this.camera.position.set(2.2, 1.6, 3.4);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.target.set(0, 0.9, 0);
    this.jointShape = new THREE.SphereGeometry(JOINT_RADIUS, 12, 8);
    this.jointLook = new THREE.MeshLambertMaterial({ color: 0x2f6db5 });
    this.motion = null;
    this.playing = false;
    this.lastFrame = performance.now();
    this.renderer.setAnimationLoop(() => this.frame());
  }

  show(bvhText) {
    this.clear();
    const { skeleton, clip } = new BVHLoader().parse(bvhText);
    const root = skeleton.bones[0];
    const figure = new THREE.Group();
    figure.scale.setScalar(METRES_PER_UNIT);
    figure.add(root);
    for (const bone of skeleton.bones) bone.add(new THREE.Mesh(this.jointShape, this.jointLook));
    const bones = new THREE.SkeletonHelper(root);
    this.scene.add(figure, bones);
    const mixer = new THREE.AnimationMixer(root);
    const action = mixer.clipAction(clip);
    action.play();
    mixer.update(0);
    this.motion = { figure, bones, mixer, action, root, duration: clip.duration };
    this.playing = true;
  }

  clear() {
    if (!this.motion) return;
    this.scene.remove(this.motion.figure, this.motion.bones);
    this.motion.bones.dispose();
    this.motion = null;
  }

  seek(fraction) {
    if (!this.motion) return;
    this.motion.action.time = fraction * this.motion.duration;
    this.motion.mixer.update(0);
  }

  frame() {
    const now = performance.now();
    const seconds = (now - this.lastFrame) / 1000;
    this.lastFrame = now;
    this.fitCanvas();
    if (this.motion) {
      if (this.playing) this.motion.mixer.update(seconds);
      this.followRoot();
      this.onTime(this.motion.action.time, this.motion.duration);
    }
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
  }

  // Keep the camera's view of the body while it travels (shift target and camera alike), and
  // the ground under it: the grid moves by whole cells, so its lines stay put in the world.
  followRoot() {
    const hips = this.motion.root.getWorldPosition(new THREE.Vector3());
    const target = this.controls.target;
    const shift = new THREE.Vector3(hips.x - target.x, 0, hips.z - target.z);
    target.add(shift);
    this.camera.position.add(shift);
    const snap = (metres) => Math.round(metres / GRID_CELL) * GRID_CELL;
    this.grid.position.set(snap(hips.x), 0, snap(hips.z));
  }

  fitCanvas() {
    const { clientWidth: width, clientHeight: height } = this.canvas;
    const size = this.renderer.getSize(new THREE.Vector2());
    if (width === size.x && height === size.y) return;
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / Math.max(height, 1);
    this.camera.updateProjectionMatrix();
  }
}

const viewer = new MotionViewer(byId("viewer"), showTime);
let result = null;

function showTime(time, duration) {
  byId("clock").textContent = `${time.toFixed(1)} / ${duration.toFixed(1)} s`;
  if (viewer.playing) byId("scrub").value = Math.round((1000 * time) / duration);
}

function showSeconds(fps) {
  const frames = Number(byId("length").value);
  byId("seconds").textContent = fps ? `${(frames / fps).toFixed(1)} s at ${fps} fps` : "";
}

async function loadModelInfo() {
  const info = await (await fetch("/info")).json();
  const length = byId("length");
  length.min = info.min_length;
  length.max = info.max_length;
  byId("num-samples").max = info.max_samples;
  length.addEventListener("input", () => showSeconds(info.fps));
  showSeconds(info.fps);
}

function requestBody() {
  return {
    text: byId("text").value,
    length: Number(byId("length").value),
    num_samples: Number(byId("num-samples").value),
    seed: Number(byId("seed").value),
  };
}

function showProgress(progress) {
  if (!progress.busy) return;
  byId("progress").value = progress.step / progress.total;
  byId("status").textContent = `step ${progress.step} / ${progress.total}`;
}

async function followProgress(isDone) {
  while (!isDone()) {
    await new Promise((resolve) => setTimeout(resolve, PROGRESS_POLL_MS));
    if (isDone()) return;
    showProgress(await (await fetch("/progress")).json());
  }
}

async function generate(event) {
  event.preventDefault();
  const button = byId("generate");
  button.disabled = true;
  byId("error").textContent = "";
  byId("status").textContent = "sending";
  byId("progress").value = 0;
  let done = false;
  const polling = followProgress(() => done);
  try {
    const response = await fetch("/generate", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(requestBody()),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    result = answer;
    byId("progress").value = 1;
    byId("status").textContent = "done";
    showSampleChoice();
    showSample(0);
  } catch (error) {
    byId("status").textContent = "failed";
    byId("error").textContent = error.message;
  } finally {
    done = true;
    await polling;
    button.disabled = false;
  }
}

function showSampleChoice() {
  const box = byId("samples");
  box.replaceChildren();
  if (result.samples.length < 2) return;
  for (const sample of result.samples) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `sample ${sample.index + 1}`;
    button.addEventListener("click", () => showSample(sample.index));
    box.append(button);
  }
}

function showSample(index) {
  const sample = result.samples[index];
  byId("samples").querySelectorAll("button").forEach((button, i) => {
    button.classList.toggle("selected", i === index);
  });
  viewer.show(sample.bvh);
  byId("play").disabled = false;
  byId("scrub").disabled = false;
  byId("play").textContent = "Pause";
  byId("retrieved").replaceChildren(
    ...sample.retrieved.map((caption) => {
      const item = document.createElement("li");
      item.textContent = caption;
      return item;
    }),
  );
  byId("downloads").replaceChildren(
    ...Object.entries(sample.files).map(([kind, url]) => {
      const link = document.createElement("a");
      link.href = url;
      link.download = `sample${index}.${kind}`;
      link.textContent = FILE_LABELS[kind];
      link.className = `download-${kind.replace(".", "-")}`;
      const item = document.createElement("li");
      item.append(link);
      return item;
    }),
  );
}

function togglePlay() {
  viewer.playing = !viewer.playing;
  byId("play").textContent = viewer.playing ? "Pause" : "Play";
}

function scrub() {
  viewer.playing = false;
  byId("play").textContent = "Play";
  viewer.seek(Number(byId("scrub").value) / 1000);
}

byId("request").addEventListener("submit", generate);
byId("play").addEventListener("click", togglePlay);
byId("scrub").addEventListener("input", scrub);
loadModelInfo().catch((error) => {
  byId("error").textContent = `could not reach the server: ${error.message}`;
});
