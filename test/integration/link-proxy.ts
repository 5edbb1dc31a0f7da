/**
 * A TCP proxy for one directed link between two nodes, which a test can cut and heal: a network
 * partition for real processes. Cutting destroys the open connections and refuses new ones
 * (as a peer that is unreachable would), so the sender's peer stream fails and backs off.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export class LinkProxy {
  readonly #targetPort: number
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #cut = false
  port = 0

  private constructor(targetPort: number) {
    this.#targetPort = targetPort
    this.#server = createServer((client) => this.#connect(client))
  }

  static async open(targetPort: number): Promise<LinkProxy> {
    const proxy = new LinkProxy(targetPort)
    proxy.port = await new Promise<number>((resolve, reject) => {
      proxy.#server.once('error', reject)
      proxy.#server.listen(0, '127.0.0.1', () => {
        const address = proxy.#server.address()
        resolve(typeof address === 'object' && address !== null ? address.port : 0)
      })
    })
    return proxy
  }

  cut(): void {
    this.#cut = true
    for (const socket of this.#sockets) socket.destroy()
  }

  heal(): void {
    this.#cut = false
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #connect(client: Socket): void {
    if (this.#cut) return void client.destroy()
    const upstream = createConnection({ host: '127.0.0.1', port: this.#targetPort })
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
      socket.on('error', () => {}) // a cut, or a killed node, ends both halves below
    }
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
    client.pipe(upstream).pipe(client)
  }
}
