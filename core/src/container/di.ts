// tsyringe needs the Reflect metadata polyfill loaded before it.
import 'reflect-metadata';

export { container, injectable, inject, type DependencyContainer, type InjectionToken } from 'tsyringe';
